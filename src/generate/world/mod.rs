//! The synthetic world behind every generated file: the partner, its customers (planted scenarios
//! and normal ones), their Azure subscriptions, the meters each one runs and the rated quantity and
//! cost of every meter on every day, plus the FX rates. Every writer (usage, ledger, activity)
//! renders this one model, so invoices tie to usage and activity joins to usage by subscription.
//!
//! Randomness: one ChaCha8 stream per customer and purpose (`rng_for`), so a customer's data does
//! not depend on how many customers come after it and nothing depends on thread scheduling.
//!
//! Here: the world, its ledger roles, and each customer (`build_customer`, one helper per trait
//! drawn); `daily_usage.rs`: the daily quantities of its meters, scenario by scenario;
//! `catalog.rs`: meters, regions and countries; `scenarios.rs`: the planted scenarios;
//! `names.rs`: company and person names, domains and IP addresses.

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
mod daily_usage;
mod names;
mod scenarios;

pub use catalog::*;
use daily_usage::build_usage;
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
    let (country, currency, home_region) = place(&mut rng, scenario, role);
    let (name, domain) = name_and_domain(&mut rng, index, scenario, role, ordinal, country);

    let created = created_date(w, &mut rng, scenario);
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
    let subs = subscriptions(&mut rng, index, n_subs);
    let (callers, ips) = callers_and_ips(&mut rng, scenario, &domain);
    let activity_shape = activity_shape(scenario, index);

    let seats = seats(&mut rng, scenario, base_daily_usd);

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

/// The customer's name and tenant domain: a company name of its country, numbered for a linked
/// ring, hostile for the escaping roles.
fn name_and_domain(
    rng: &mut ChaCha8Rng,
    index: usize,
    scenario: Scenario,
    role: Role,
    ordinal: usize,
    country: &str,
) -> (String, String) {
    let mut base_name = company_name(rng, country, index);
    if scenario == Scenario::LinkedRing {
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
    (name, domain)
}

/// The customer's country, billing currency and home region, by its scenario and role.
fn place(
    rng: &mut ChaCha8Rng,
    scenario: Scenario,
    role: Role,
) -> (&'static str, &'static str, &'static str) {
    use Scenario as S;
    let countries: Vec<(usize, u32)> = COUNTRIES
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.1))
        .collect();
    let mut ci = *pick_weighted(rng, &countries);
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
    (country, currency, home_region)
}

/// The customer's creation date: recent for the new-customer scenarios, years back for most.
fn created_date(w: &World, rng: &mut ChaCha8Rng, scenario: Scenario) -> NaiveDate {
    use Scenario as S;
    let end = w.end;
    match scenario {
        S::StolenCard => end - Duration::days(10),
        S::LinkedRing => end - Duration::days(6),
        S::NewRampUp => end - Duration::days(20),
        S::Normal if rng.random_bool(0.1) => {
            // a newer customer: created inside the ledger window, some months before end
            let oldest = (end - w.ledger_start).num_days().max(61);
            end - Duration::days(rng.random_range(60..=oldest))
        }
        _ => end - Duration::days(rng.random_range(400..2200)),
    }
}

/// The customer's `n_subs` subscriptions, named in turn from its index.
fn subscriptions(rng: &mut ChaCha8Rng, index: usize, n_subs: usize) -> Vec<Subscription> {
    let sub_names = [
        "Production",
        "Dev/Test",
        "Analytics",
        "Shared Services",
        "Pay-As-You-Go",
    ];
    (0..n_subs)
        .map(|k| Subscription {
            id: guid(rng),
            name: sub_names[(k + index) % sub_names.len()].to_string(),
        })
        .collect()
}

/// The customer's own callers (user principal names in its domain) and client IPs, with the
/// MSP's where the MSP administers the tenant.
fn callers_and_ips(
    rng: &mut ChaCha8Rng,
    scenario: Scenario,
    domain: &str,
) -> (Vec<String>, Vec<String>) {
    use Scenario as S;
    let mut callers: Vec<String> = (0..rng.random_range(2..=3))
        .map(|_| {
            let f = FIRST[rng.random_range(0..FIRST.len())];
            let l = LAST[rng.random_range(0..LAST.len())];
            format!("{f}.{l}@{domain}")
        })
        .collect();
    let mut ips: Vec<String> = (0..rng.random_range(1..=3))
        .map(|_| ip(rng, &[20, 40, 52, 81, 86, 104, 151]))
        .collect();
    if scenario == S::MspManaged {
        // The MSP administers the tenant every day, from its office.
        callers.push(format!("{MSP_GUEST_PREFIX}{domain}"));
        ips.push(MSP_OFFICE_IP.to_string());
    }
    (callers, ips)
}

/// The shape of the customer's Activity Log export: the fraud scenarios in the diagnostic
/// shapes, the others spread over all four by index.
fn activity_shape(scenario: Scenario, index: usize) -> ActivityShape {
    use Scenario as S;
    match scenario {
        S::AccountTakeover => ActivityShape::DiagLines,
        S::CryptoMining => ActivityShape::DiagRecords,
        _ => match index % 10 {
            0..=5 => ActivityShape::DiagLines,
            6 | 7 => ActivityShape::DiagRecords,
            8 => ActivityShape::Rest,
            _ => ActivityShape::PortalCsv,
        },
    }
}

/// The customer's seat subscriptions (licences billed monthly), for about six customers in ten.
fn seats(rng: &mut ChaCha8Rng, scenario: Scenario, base_daily_usd: f64) -> Vec<Seat> {
    use Scenario as S;
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
                subscription_id: guid(rng),
            });
        }
    }

    seats
}
