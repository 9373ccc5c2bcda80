//! The synthetic world behind every generated file: the partner, its customers (planted scenarios
//! and normal ones), their Azure subscriptions, the meters each one runs and the rated quantity and
//! cost of every meter on every day, plus the FX rates. Every writer (usage, ledger, activity)
//! renders this one model, so invoices tie to usage and activity joins to usage by subscription.
//!
//! Randomness: one ChaCha8 stream per customer and purpose (`rng_for`), so a customer's data does
//! not depend on how many customers come after it and nothing depends on thread scheduling.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Median daily Azure spend of a normal customer, USD.
pub const MEDIAN_DAILY_USD: f64 = 40.0;

/// Purposes of the per-customer random streams (mixed into the seed).
pub mod stream {
    pub const WORLD: u64 = 1;
    pub const USAGE: u64 = 2;
    pub const LEDGER: u64 = 3;
    pub const ACTIVITY: u64 = 4;
    pub const FX: u64 = 5;
    pub const LAYOUT: u64 = 6;
}

pub fn rng_for(seed: u64, purpose: u64, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    r.set_stream(index);
    r
}

/// A random version-4 GUID, lower-case.
pub fn guid(rng: &mut ChaCha8Rng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_guid(&b)
}

/// A GUID derived from a name, so meter ids are the same whatever the seed (as real ones are).
pub fn named_guid(name: &str) -> String {
    let h = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_guid(&b)
}

fn format_guid(b: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// A standard normal draw (Box-Muller; rand_distr is not a dependency).
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

pub fn round_to(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (x * p).round() / p
}

/// Quantity and money as written in the usage file: quantity to 6 decimals, totals to 8.
/// Returns (quantity, PricingPreTaxTotal, BillingPreTaxTotal).
pub fn rated(qty: f64, unit_price: f64, pc_to_bc: f64) -> (f64, f64, f64) {
    let q = round_to(qty, 6);
    let pricing = round_to(q * unit_price, 8);
    let billing = round_to(pricing * pc_to_bc, 8);
    (q, pricing, billing)
}

mod catalog;
mod names;
mod scenarios;

pub use catalog::*;
use names::*;
pub use scenarios::*;

/// Ledger quirks carried by designated normal customers (one each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    None,
    FormulaName,
    ScriptName,
    CommaName,
    QuoteName,
    ForeignBudget,
    ForeignPayment,
    Overpayment,
    Unapplied,
    UnknownInvoice,
    CreditRefund,
    Partial,
}

/// Roles handed to normal customers in this order (normal customer i gets ROLES[i]).
pub const ROLES: [Role; 11] = [
    Role::ForeignBudget,
    Role::ForeignPayment,
    Role::FormulaName,
    Role::ScriptName,
    Role::CommaName,
    Role::QuoteName,
    Role::Overpayment,
    Role::Unapplied,
    Role::UnknownInvoice,
    Role::CreditRefund,
    Role::Partial,
];

pub struct Subscription {
    pub id: String,
    pub name: String,
}

/// One resource running one meter in one subscription: one usage row per day it has a quantity.
pub struct MeterUse {
    pub meter: usize,
    pub sub: usize,
    pub region: &'static str,
    pub resource_group: String,
    pub resource_uri: String,
    pub consumed_service: String,
    pub tags: String,
    /// Quantity per day index (0 = no row that day), already rounded as written.
    pub qty: Vec<f64>,
    /// BillingPreTaxTotal per day index, as written.
    pub cost: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayStyle {
    Prompt,
    AroundDue,
    Late,
}

pub struct Seat {
    pub product: &'static str,
    pub sku: &'static str,
    pub product_id: &'static str,
    /// USD per seat per month.
    pub price: f64,
    pub quantity: u32,
    pub subscription_id: String,
}

pub struct Customer {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub domain: String,
    pub country: &'static str,
    pub currency: &'static str,
    pub created: NaiveDate,
    pub verified: bool,
    pub credit_limit: f64,
    pub scenario: Scenario,
    pub role: Role,
    /// The Azure plan (billing subscription, usage SubscriptionId).
    pub plan_id: String,
    pub subs: Vec<Subscription>,
    pub uses: Vec<MeterUse>,
    pub home_region: &'static str,
    pub base_daily_usd: f64,
    pub markup: f64,
    pub net_days: i64,
    pub instrument: &'static str,
    pub pay_style: PayStyle,
    pub seats: Vec<Seat>,
    /// Known callers (UPNs) and client IPs of its normal activity.
    pub callers: Vec<String>,
    pub ips: Vec<String>,
    /// Activity log shape this customer's events are exported in.
    pub activity_shape: ActivityShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityShape {
    DiagLines,
    DiagRecords,
    Rest,
    PortalCsv,
}

impl Customer {
    /// The first day of a planted fraud (labels.csv `first_fraud_day`): the day its first
    /// fraudulent usage or operation happens; None for every other scenario.
    pub fn first_fraud_day(&self, end: NaiveDate) -> Option<NaiveDate> {
        match self.scenario {
            Scenario::CryptoMining => Some(end - Duration::days(4)),
            Scenario::AccountTakeover => Some(end - Duration::days(2)),
            Scenario::StolenCard | Scenario::LinkedRing => Some(self.created + Duration::days(1)),
            _ => None,
        }
    }

    /// Total BillingPreTaxTotal per day index.
    pub fn daily_cost(&self, days: usize) -> Vec<f64> {
        let mut t = vec![0.0; days];
        for u in &self.uses {
            for (d, c) in u.cost.iter().enumerate() {
                t[d] += c;
            }
        }
        t
    }
}

pub struct World {
    pub seed: u64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub dates: Vec<NaiveDate>,
    pub meters: Vec<Meter>,
    pub customers: Vec<Customer>,
    pub partner_id: String,
    pub partner_name: &'static str,
    pub mpn_id: &'static str,
    /// Daily rates into USD (1 unit = rate USD) for EUR and GBP, from `fx_start` to `fx_end`.
    pub fx_start: NaiveDate,
    pub fx_eur: Vec<f64>,
    pub fx_gbp: Vec<f64>,
    /// First service month of the receivables ledger (first day of that month).
    pub ledger_start: NaiveDate,
}

pub fn first_of_month(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d)
}

pub fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let m0 = d.year() * 12 + d.month0() as i32 + n;
    NaiveDate::from_ymd_opt(m0.div_euclid(12), m0.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

pub fn days_in_month(d: NaiveDate) -> i64 {
    (add_months(d, 1) - first_of_month(d)).num_days()
}

impl World {
    pub fn day_index(&self, d: NaiveDate) -> Option<usize> {
        let i = (d - self.start).num_days();
        (i >= 0 && (i as usize) < self.dates.len()).then_some(i as usize)
    }

    /// Rate into USD of 1 unit of `currency` on `date` (USD: 1).
    pub fn fx(&self, currency: &str, date: NaiveDate) -> f64 {
        let series = match currency {
            "EUR" => &self.fx_eur,
            "GBP" => &self.fx_gbp,
            _ => return 1.0,
        };
        let i = (date - self.fx_start)
            .num_days()
            .clamp(0, series.len() as i64 - 1) as usize;
        series[i]
    }

    /// PCToBCExchangeRate of a month: USD to the billing currency, from the rate on its first day.
    pub fn pc_to_bc(&self, currency: &str, month: NaiveDate) -> f64 {
        if currency == "USD" {
            1.0
        } else {
            round_to(1.0 / self.fx(currency, first_of_month(month)), 6)
        }
    }

    pub fn fx_end(&self) -> NaiveDate {
        self.fx_start + Duration::days(self.fx_eur.len() as i64 - 1)
    }
}

/// Builds the whole world for a spec. Pure function of its arguments.
pub fn build(customers: usize, days: u32, seed: u64, end: NaiveDate) -> World {
    let days = days.max(1) as usize;
    let start = end - Duration::days(days as i64 - 1);
    let dates: Vec<NaiveDate> = (0..days)
        .map(|i| start + Duration::days(i as i64))
        .collect();
    let meters = catalog();
    let end_month = first_of_month(end);
    let ledger_start = first_of_month(start).min(add_months(end_month, -7));
    let mut prng = rng_for(seed, stream::WORLD, u64::MAX);
    let partner_id = guid(&mut prng);

    // FX: a gentle random walk from the ledger start to a week after end (late payments).
    let fx_start = ledger_start;
    let fx_len = ((end + Duration::days(7)) - fx_start).num_days() as usize + 1;
    let mut frng = rng_for(seed, stream::FX, 0);
    let (mut eur, mut gbp) = (
        1.085 + frng.random_range(-0.03..0.03),
        1.265 + frng.random_range(-0.03..0.03),
    );
    let (mut fx_eur, mut fx_gbp) = (Vec::with_capacity(fx_len), Vec::with_capacity(fx_len));
    for _ in 0..fx_len {
        eur = (eur * (1.0 + 0.003 * normal(&mut frng))).clamp(0.95, 1.25);
        gbp = (gbp * (1.0 + 0.003 * normal(&mut frng))).clamp(1.1, 1.45);
        fx_eur.push(round_to(eur, 6));
        fx_gbp.push(round_to(gbp, 6));
    }

    // Scenario slots: spread over the customer list by a seeded shuffle.
    let mut order: Vec<usize> = (0..customers).collect();
    for i in (1..order.len()).rev() {
        let j = prng.random_range(0..=i);
        order.swap(i, j);
    }
    let mut scenario_of = vec![Scenario::Normal; customers];
    for (k, s) in PLANTED.iter().enumerate().take(customers) {
        scenario_of[order[k]] = *s;
    }
    let mut role_of = vec![Role::None; customers];
    let mut normals = 0;
    for i in 0..customers {
        if scenario_of[i] == Scenario::Normal {
            if let Some(r) = ROLES.get(normals) {
                role_of[i] = *r;
            }
            normals += 1;
        }
    }

    let mut world = World {
        seed,
        start,
        end,
        dates,
        meters,
        customers: Vec::with_capacity(customers),
        partner_id,
        partner_name: "Fabrikam Cloud Partners",
        mpn_id: "6012345",
        fx_start,
        fx_eur,
        fx_gbp,
        ledger_start,
    };
    for i in 0..customers {
        // Which occurrence of its scenario this customer is (the linked ring's members 1, 2, 3).
        let ordinal = scenario_of[..i]
            .iter()
            .filter(|s| **s == scenario_of[i])
            .count();
        let c = build_customer(&world, i, scenario_of[i], role_of[i], ordinal);
        world.customers.push(c);
    }
    world
}

fn build_customer(
    w: &World,
    index: usize,
    scenario: Scenario,
    role: Role,
    ordinal: usize,
) -> Customer {
    use Scenario as S;
    let mut rng = rng_for(w.seed, stream::WORLD, index as u64);
    let id = guid(&mut rng);
    let countries: Vec<(usize, u32)> = COUNTRIES
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.1))
        .collect();
    let mut ci = *pick_weighted(&mut rng, &countries);
    // The two foreign-currency roles need a customer billed in EUR / GBP.
    match role {
        Role::ForeignBudget => ci = 2,
        Role::ForeignPayment => ci = 1,
        _ => {}
    }
    if matches!(
        scenario,
        S::BudgetBlowout | S::OverBudget | S::LargeSteady | S::CryptoMining | S::StolenCard
    ) {
        ci = 0; // USD keeps the planted figures easy to read
    }
    if matches!(scenario, S::LinkedRing | S::ListedCountry) {
        ci = CI_NG;
    }
    let (country, _, mut currency, regions) = COUNTRIES[ci];
    // Not every European customer is billed in its own currency.
    if currency == "EUR" && role != Role::ForeignBudget && rng.random_bool(0.35) {
        currency = "USD";
    }
    let home_region = regions[rng.random_range(0..regions.len())];
    let mut base_name = company_name(&mut rng, country, index);
    if scenario == S::LinkedRing {
        // Names (and so tenant domains) made by a script: one pattern, numbered.
        base_name = format!("Bluefin Trading {:02} Ltd", ordinal + 1);
    }
    let name = match role {
        Role::FormulaName => "=HYPERLINK(\"http://x\")".to_string(),
        Role::ScriptName => "<script>alert(1)</script>".to_string(),
        Role::CommaName => format!("Smith, Jones & Partners {index:04} LLP"),
        Role::QuoteName => format!("The \"Best\" Bakery {index:04} GmbH"),
        _ => base_name,
    };
    let domain = match role {
        Role::FormulaName | Role::ScriptName => format!("tenant{index:04}.onmicrosoft.com"),
        _ => format!(
            "{}.onmicrosoft.com",
            slug(&name).chars().take(24).collect::<String>()
        ),
    };

    let end = w.end;
    let created = match scenario {
        S::StolenCard => end - Duration::days(10),
        S::LinkedRing => end - Duration::days(6),
        S::NewRampUp => end - Duration::days(20),
        S::Normal if rng.random_bool(0.1) => {
            // a newer customer: created inside the ledger window, some months before end
            let oldest = (end - w.ledger_start).num_days().max(61);
            end - Duration::days(rng.random_range(60..=oldest))
        }
        _ => end - Duration::days(rng.random_range(400..2200)),
    };
    let verified = match scenario {
        S::StolenCard | S::LinkedRing => false,
        S::Normal => rng.random_bool(0.97),
        _ => true,
    };

    let z = normal(&mut rng);
    let base_daily_usd = match scenario {
        S::LargeSteady => MEDIAN_DAILY_USD * 50.0,
        S::CryptoMining => 60.0,
        S::StolenCard => 25.0,
        S::WeeklyBatch => 30.0,
        S::LinkedRing => 130.0,
        S::NewRampUp => 400.0,
        S::GpuExpansion => 300.0,
        _ => (MEDIAN_DAILY_USD * (1.1 * z).exp()).clamp(3.0, 1500.0),
    };
    let credit_limit = match scenario {
        S::StolenCard => 500.0,
        S::LinkedRing => 1000.0,
        // Its two GPU nodes (~590 USD a day) come on top of the 300 of its other meters.
        S::GpuExpansion => 100_000.0,
        _ => ((base_daily_usd * 30.0 * 3.0 / 1000.0).ceil() * 1000.0).max(2000.0),
    };
    let markup = round_to(rng.random_range(1.05..1.15), 4);
    let net_days = match (scenario, rng.random_range(0..10)) {
        (S::LatePayer, _) => 30,
        (_, 0) => 15,
        (_, 1) => 45,
        _ => 30,
    };
    let instrument = match scenario {
        S::StolenCard => "prepaid_card",
        S::LargeSteady => "bank_transfer",
        _ => *pick_weighted(
            &mut rng,
            &[
                ("card", 40),
                ("bank_transfer", 35),
                ("direct_debit", 22),
                ("other", 3),
            ],
        ),
    };
    let pay_style = match rng.random_range(0..100) {
        0..=44 => PayStyle::Prompt,
        45..=84 => PayStyle::AroundDue,
        _ => PayStyle::Late,
    };

    let plan_id = guid(&mut rng);
    let n_subs = match scenario {
        S::StolenCard | S::LinkedRing => 1,
        _ => rng.random_range(1..=3),
    };
    let sub_names = [
        "Production",
        "Dev/Test",
        "Analytics",
        "Shared Services",
        "Pay-As-You-Go",
    ];
    let subs: Vec<Subscription> = (0..n_subs)
        .map(|k| Subscription {
            id: guid(&mut rng),
            name: sub_names[(k + index) % sub_names.len()].to_string(),
        })
        .collect();

    let mut callers: Vec<String> = (0..rng.random_range(2..=3))
        .map(|_| {
            let f = FIRST[rng.random_range(0..FIRST.len())];
            let l = LAST[rng.random_range(0..LAST.len())];
            format!("{f}.{l}@{domain}")
        })
        .collect();
    let mut ips: Vec<String> = (0..rng.random_range(1..=3))
        .map(|_| ip(&mut rng, &[20, 40, 52, 81, 86, 104, 151]))
        .collect();
    if scenario == S::MspManaged {
        // The MSP administers the tenant every day, from its office.
        callers.push(format!("{MSP_GUEST_PREFIX}{domain}"));
        ips.push(MSP_OFFICE_IP.to_string());
    }
    let activity_shape = match scenario {
        S::AccountTakeover => ActivityShape::DiagLines,
        S::CryptoMining => ActivityShape::DiagRecords,
        _ => match index % 10 {
            0..=5 => ActivityShape::DiagLines,
            6 | 7 => ActivityShape::DiagRecords,
            8 => ActivityShape::Rest,
            _ => ActivityShape::PortalCsv,
        },
    };

    let seat_products: [(&str, &str, &str, f64); 4] = [
        ("Microsoft 365 E3", "Microsoft 365 E3", "CFQ7TTC0LFLX", 36.0),
        (
            "Microsoft 365 Business Premium",
            "Microsoft 365 Business Premium",
            "CFQ7TTC0LCHC",
            22.0,
        ),
        (
            "Microsoft 365 Business Basic",
            "Microsoft 365 Business Basic",
            "CFQ7TTC0LH18",
            6.0,
        ),
        ("Office 365 E5", "Office 365 E5", "CFQ7TTC0LF8S", 38.0),
    ];
    let mut seats = Vec::new();
    if !matches!(scenario, S::StolenCard | S::LinkedRing) && rng.random_bool(0.6) {
        for _ in 0..rng.random_range(1..=2) {
            let p = seat_products[rng.random_range(0..seat_products.len())];
            let q = ((base_daily_usd / 4.0) * rng.random_range(0.3..1.5))
                .round()
                .clamp(3.0, 2000.0) as u32;
            seats.push(Seat {
                product: p.0,
                sku: p.1,
                product_id: p.2,
                price: p.3,
                quantity: q,
                subscription_id: guid(&mut rng),
            });
        }
    }

    let mut c = Customer {
        index,
        id,
        name,
        domain,
        country,
        currency,
        created,
        verified,
        credit_limit,
        scenario,
        role,
        plan_id,
        subs,
        uses: Vec::new(),
        home_region,
        base_daily_usd,
        markup,
        net_days,
        instrument,
        pay_style,
        seats,
        callers,
        ips,
        activity_shape,
    };
    build_usage(w, &mut c, &mut rng);
    c
}

fn casing(rng: &mut ChaCha8Rng, s: &str) -> String {
    match rng.random_range(0..6) {
        0 => s.to_ascii_lowercase(),
        1 => s.to_ascii_uppercase(),
        _ => s.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn new_use(
    w: &World,
    c: &Customer,
    rng: &mut ChaCha8Rng,
    meter: usize,
    sub: usize,
    region: &'static str,
    rg: &str,
    res: &str,
) -> MeterUse {
    let m = &w.meters[meter];
    let provider = m.service;
    let uri = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/{provider}/{}/{res}",
        c.subs[sub].id, m.resource_type
    );
    let resource_uri = match rng.random_range(0..5) {
        0 => uri.to_ascii_lowercase(),
        1 => uri.replace("resourceGroups", "resourcegroups"),
        _ => uri,
    };
    let env = if c.subs[sub].name == "Dev/Test" {
        "dev"
    } else {
        "prod"
    };
    MeterUse {
        meter,
        sub,
        region,
        resource_group: rg.to_string(),
        resource_uri,
        consumed_service: casing(rng, provider),
        tags: format!(
            "{{\"env\":\"{env}\",\"costCenter\":\"cc-{:03}\"}}",
            c.index % 1000
        ),
        qty: vec![0.0; w.dates.len()],
        cost: vec![0.0; w.dates.len()],
    }
}

/// Daily quantities for every meter the customer runs, scenario effects included.
fn build_usage(w: &World, c: &mut Customer, rng: &mut ChaCha8Rng) {
    use Scenario as S;
    let n_days = w.dates.len();
    let first_day = w
        .day_index(c.created + Duration::days(1))
        .unwrap_or(if c.created < w.start { 0 } else { n_days });
    let end_month = first_of_month(w.end);
    let n_meters = match c.scenario {
        S::WeeklyBatch => 4,
        S::StolenCard | S::LinkedRing => 2,
        _ => rng.random_range(3..=8),
    };
    // Draw distinct normal meters; VM D-series first most of the time.
    let mut pool: Vec<usize> = NORMAL_METERS.filter(|m| *m != M_TINY).collect();
    for i in (1..pool.len()).rev() {
        let j = rng.random_range(0..=i);
        pool.swap(i, j);
    }
    let mut chosen: Vec<usize> = Vec::new();
    if matches!(c.scenario, S::StolenCard | S::LinkedRing) {
        chosen = vec![M_F16, M_BANDWIDTH];
    } else {
        if rng.random_bool(0.8) || c.scenario == S::WeeklyBatch {
            chosen.push(if c.scenario == S::WeeklyBatch {
                M_D8
            } else {
                M_D2 + rng.random_range(0..3)
            });
        }
        for m in pool {
            if chosen.len() >= n_meters {
                break;
            }
            if !chosen.contains(&m) {
                chosen.push(m);
            }
        }
        if rng.random_bool(0.5) {
            chosen.push(M_TINY);
        }
    }
    // Spend shares (tiny ops have no share: they cost fractions of a cent).
    let weights: Vec<f64> = chosen
        .iter()
        .enumerate()
        .map(|(k, m)| match (*m, c.scenario, k) {
            (M_TINY, _, _) => 0.0,
            // the Saturday batch job is most of this customer's spend
            (_, S::WeeklyBatch, 0) => 4.0,
            _ => rng.random_range(0.3..1.0),
        })
        .collect();
    let mut wsum: f64 = weights.iter().sum();
    if wsum <= 0.0 {
        wsum = 1.0;
    }
    let rgs = [
        "rg-web",
        "rg-data",
        "rg-shared",
        "RG-PROD-APP",
        "rg-analytics",
        "rg-dev",
    ];
    for (k, &m) in chosen.iter().enumerate() {
        let sub = k % c.subs.len();
        let rg = rgs[rng.random_range(0..rgs.len())];
        let res = format!(
            "{}-{:02}",
            w.meters[m]
                .resource_type
                .to_ascii_lowercase()
                .trim_end_matches('s'),
            k + 1
        );
        let mut u = new_use(w, c, rng, m, sub, c.home_region, rg, &res);
        let price = w.meters[m].price;
        let share = weights[k] / wsum;
        let mut base_qty = share * c.base_daily_usd / price;
        if m == M_TINY {
            base_qty = rng.random_range(0.00005..0.0004);
        }
        let flat = matches!(
            w.meters[m].kind,
            MeterKind::Disk | MeterKind::Blob | MeterKind::Sql
        ) || rng.random_bool(0.5);
        let weekend = if flat || c.scenario == S::LargeSteady {
            1.0
        } else {
            rng.random_range(0.35..0.75)
        };
        let noise_sd = match c.scenario {
            S::LargeSteady | S::BudgetBlowout | S::OverBudget => 0.02,
            _ if w.meters[m].kind == MeterKind::Bandwidth => 0.2,
            _ => rng.random_range(0.04..0.1),
        };
        for d in first_day..n_days {
            let date = w.dates[d];
            let wd = date.weekday();
            let is_weekend = matches!(wd, Weekday::Sat | Weekday::Sun);
            let mut f = if is_weekend { weekend } else { 1.0 };
            match c.scenario {
                S::SteadyGrowth => f *= 1.02f64.powf(d as f64 / 7.0),
                S::WeeklyBatch if k == 0 => f = if wd == Weekday::Sat { 9.0 } else { 0.1 },
                S::PlannedSpike if d + 4 == n_days => f *= 10.0,
                S::MonthEndBatch if k == 0 && date.day() as i64 + 1 >= days_in_month(date) => {
                    f *= 12.0
                }
                S::NewRampUp => f *= ((d + 1 - first_day) as f64 / 10.0).min(1.0),
                _ => {}
            }
            let noise = (1.0 + noise_sd * normal(rng)).max(0.05);
            u.qty[d] = base_qty * f * noise;
        }
        c.uses.push(u);
    }

    // Scenario-specific resources.
    let last = n_days.saturating_sub(1);
    match c.scenario {
        S::CryptoMining => {
            // Stolen credentials: GPU VMs in regions the customer never used, 24 h a day.
            let sub = 0;
            let plan: [(usize, &'static str, &str); 4] = [
                (M_NC24, "southcentralus", "gpu-node-01"),
                (M_NC24, "southcentralus", "gpu-node-02"),
                (M_NC24, "southcentralus", "gpu-node-03"),
                (M_ND96, "westus3", "a100-node-01"),
            ];
            for (m, region, res) in plan {
                let mut u = new_use(w, c, rng, m, sub, region, "rg-compute-tmp", res);
                for d in last.saturating_sub(4)..n_days {
                    u.qty[d] = 24.0;
                }
                c.uses.push(u);
            }
        }
        S::AccountTakeover => {
            let regions = [
                "brazilsouth",
                "koreacentral",
                "southeastasia",
                "centralindia",
                "japaneast",
                "swedencentral",
            ];
            for (k, region) in regions.iter().enumerate() {
                let mut u = new_use(
                    w,
                    c,
                    rng,
                    M_D16,
                    0,
                    region,
                    "rg-tmp-build",
                    &format!("vm-build-{k:02}"),
                );
                for d in last.saturating_sub(1)..n_days {
                    u.qty[d] = if d == last { 24.0 } else { 14.0 };
                }
                c.uses.push(u);
            }
        }
        S::GpuExpansion => {
            // Two GPU nodes 24 h a day all along; two more from 5 days before end, same meter,
            // same region.
            for k in 1..=4usize {
                let res = format!("gpu-node-{k:02}");
                let mut u = new_use(w, c, rng, M_NC24, 0, c.home_region, "rg-ml", &res);
                let from = if k <= 2 {
                    first_day
                } else {
                    last.saturating_sub(4)
                };
                for d in from..n_days {
                    u.qty[d] = 24.0;
                }
                c.uses.push(u);
            }
        }
        S::RegionMove => {
            // From 5 days before end every resource runs in a region the customer never used
            // (new resource ids there); the old ones stop.
            let target = ["swedencentral", "northeurope", "uksouth"]
                .into_iter()
                .find(|r| *r != c.home_region)
                .unwrap_or("swedencentral");
            let from = last.saturating_sub(4);
            let mut moved = Vec::new();
            for k in 0..c.uses.len() {
                let (meter, sub, rg) = (
                    c.uses[k].meter,
                    c.uses[k].sub,
                    c.uses[k].resource_group.clone(),
                );
                let res = format!(
                    "{}-{:02}-sc",
                    w.meters[meter]
                        .resource_type
                        .to_ascii_lowercase()
                        .trim_end_matches('s'),
                    k + 1
                );
                let mut u = new_use(w, c, rng, meter, sub, target, &rg, &res);
                for d in from..n_days {
                    u.qty[d] = c.uses[k].qty[d];
                }
                moved.push(u);
            }
            for u in c.uses.iter_mut() {
                for d in from..n_days {
                    u.qty[d] = 0.0;
                }
            }
            c.uses.extend(moved);
        }
        S::GpuTrial => {
            // One GPU VM for 5 hours, 3 days before end, in the home region.
            let mut u = new_use(
                w,
                c,
                rng,
                M_NC24,
                0,
                c.home_region,
                "rg-ml-trial",
                "gpu-trial-01",
            );
            u.qty[last.saturating_sub(3)] = 5.0;
            c.uses.push(u);
        }
        S::LinkedRing => {
            // Each member runs ~130 USD a day of F16s v2 from its first day.
            for u in c.uses.iter_mut() {
                let m = u.meter;
                for d in first_day..n_days {
                    u.qty[d] = if m == M_F16 {
                        24.0 * 8.0 * (1.0 + 0.03 * normal(rng))
                    } else {
                        50.0 * (1.0 + 0.2 * normal(rng)).max(0.1)
                    };
                }
            }
        }
        S::StolenCard => {
            // Spends fast on compute from its second day: ~600 USD a day on F16s v2.
            for u in c.uses.iter_mut() {
                let m = u.meter;
                for d in first_day..n_days {
                    u.qty[d] = if m == M_F16 {
                        24.0 * 36.0 * (1.0 + 0.03 * normal(rng))
                    } else {
                        400.0 * (1.0 + 0.2 * normal(rng)).max(0.1)
                    };
                }
            }
        }
        S::BudgetBlowout => {
            // Spend ramps up from 8 days before end (within the month of end) to a peak p chosen
            // so that mtd at end is 1.18 months of normal spend: the budget (set between mtd the
            // day before end and mtd at end, ~1.12 normal months) is then crossed by the forecast
            // a few days into the ramp and by mtd only on the last day.
            let start_ramp = w
                .dates
                .iter()
                .position(|d| *d >= end_month && *d >= w.end - Duration::days(8))
                .unwrap_or(n_days);
            let cost = |u: &MeterUse, d: usize| u.qty[d] * w.meters[u.meter].price;
            let day_total = |d: usize| c.uses.iter().map(|u| cost(u, d)).sum::<f64>();
            let before: Vec<f64> = (0..n_days)
                .filter(|d| w.dates[*d] < end_month)
                .map(day_total)
                .collect();
            let normal_daily = if before.is_empty() {
                c.base_daily_usd
            } else {
                before.iter().sum::<f64>() / before.len() as f64
            };
            let target = 1.18 * normal_daily * days_in_month(w.end) as f64;
            let pre: f64 = (0..start_ramp)
                .filter(|d| w.dates[*d] >= end_month)
                .map(day_total)
                .sum();
            let ramp = |d: usize| ((d - start_ramp + 1) as f64 / 4.0).min(1.0);
            let s0: f64 = (start_ramp..n_days).map(day_total).sum();
            let s1: f64 = (start_ramp..n_days).map(|d| day_total(d) * ramp(d)).sum();
            let peak = if s1 > 0.0 {
                (1.0 + (target - pre - s0) / s1).clamp(1.5, 6.0)
            } else {
                1.0
            };
            for u in c.uses.iter_mut() {
                for d in start_ramp..n_days {
                    u.qty[d] *= 1.0 + (peak - 1.0) * ramp(d);
                }
            }
        }
        _ => {}
    }

    // Rate every day: quantity and totals rounded as written.
    for u in c.uses.iter_mut() {
        let price = w.meters[u.meter].price;
        for d in 0..n_days {
            if u.qty[d] > 0.0 {
                let rate = w.pc_to_bc(c.currency, w.dates[d]);
                let (q, _, billing) = rated(u.qty[d], price, rate);
                u.qty[d] = q;
                u.cost[d] = billing;
            }
        }
    }
}
