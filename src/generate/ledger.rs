//! The partner-side and master-data files: billed/ (Partner Center invoice reconciliation line
//! items for seat licences), receivables/invoices.csv and payments.csv (the partner's own ledger,
//! tied to usage and billed cost by a markup), budgets.csv, customers.csv, fx_rates.csv,
//! dispositions.csv and labels.csv (the key of planted scenarios, for tests and the README).

use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;

use super::usage::invoice_number;
use super::world::{
    add_months, days_in_month, first_of_month, normal, rng_for, round_to, stream, Customer, Role,
    Scenario, World,
};
use super::{write_csv, GeneratedFile};
use crate::error::Result;

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn us(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

fn month_key(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

fn money2(x: f64) -> String {
    format!("{:.2}", round_to(x, 2))
}

/// Service months of the ledger (first days), oldest first, up to the month before `end`.
fn ledger_months(w: &World) -> Vec<NaiveDate> {
    let end_month = first_of_month(w.end);
    let mut v = Vec::new();
    let mut m = w.ledger_start;
    while m < end_month {
        v.push(m);
        m = add_months(m, 1);
    }
    v
}

/// Billed months: months with billed usage (in the usage window, before the month of `end`).
fn billed_months(w: &World) -> Vec<NaiveDate> {
    ledger_months(w)
        .into_iter()
        .filter(|m| add_months(*m, 1) > w.start)
        .collect()
}

pub const BILLED_COLUMNS: [&str; 47] = [
    "PartnerId",
    "CustomerId",
    "CustomerName",
    "CustomerDomainName",
    "CustomerCountry",
    "InvoiceNumber",
    "MpnId",
    "ResellerMpnId",
    "OrderId",
    "OrderDate",
    "ProductId",
    "SkuId",
    "AvailabilityId",
    "SkuName",
    "ProductName",
    "ChargeType",
    "UnitPrice",
    "Quantity",
    "Subtotal",
    "TaxTotal",
    "Total",
    "Currency",
    "PriceAdjustmentDescription",
    "PublisherName",
    "PublisherId",
    "SubscriptionDescription",
    "SubscriptionId",
    "ChargeStartDate",
    "ChargeEndDate",
    "TermAndBillingCycle",
    "EffectiveUnitPrice",
    "UnitType",
    "AlternateId",
    "BillableQuantity",
    "BillingFrequency",
    "PricingCurrency",
    "PCToBCExchangeRate",
    "PCToBCExchangeRateDate",
    "MeterDescription",
    "ReservationOrderId",
    "CreditReasonCode",
    "SubscriptionStartDate",
    "SubscriptionEndDate",
    "ReferenceId",
    "ProductQualifiers",
    "PromotionId",
    "ProductCategory",
];

struct BilledLine {
    seat: usize,
    charge_type: String,
    unit_price: f64,
    quantity: i64,
    total: f64,
}

/// Seat-licence line items of one customer and month (billing currency).
fn billed_lines(w: &World, c: &Customer, month: NaiveDate) -> Vec<BilledLine> {
    let mut rng = rng_for(
        w.seed,
        stream::LEDGER,
        (c.index as u64) << 20 | (month.year() as u64 * 12 + month.month0() as u64),
    );
    let rate = w.pc_to_bc(c.currency, month);
    let mut lines = Vec::new();
    if c.created >= add_months(month, 1) {
        return lines;
    }
    for (k, s) in c.seats.iter().enumerate() {
        let up = round_to(s.price * rate, 2);
        let ct = match rng.random_range(0..10) {
            0 => "CycleCharge",
            1 => "cyclecharge",
            _ => "cycleCharge",
        };
        lines.push(BilledLine {
            seat: k,
            charge_type: ct.into(),
            unit_price: up,
            quantity: s.quantity as i64,
            total: round_to(up * s.quantity as f64, 2),
        });
        let roll = rng.random_range(0..100);
        if roll < 8 {
            let q = (s.quantity as i64 / 5).max(1);
            let ct = if roll < 3 {
                "RemoveQuantity"
            } else {
                "removeQuantity"
            };
            lines.push(BilledLine {
                seat: k,
                charge_type: ct.into(),
                unit_price: up,
                quantity: -q,
                total: round_to(-up * q as f64 * 0.5, 2),
            });
        } else if roll < 14 {
            let q = (s.quantity as i64 / 10).max(1);
            let ct = if roll < 10 { "New" } else { "new" };
            lines.push(BilledLine {
                seat: k,
                charge_type: ct.into(),
                unit_price: up,
                quantity: q,
                total: round_to(up * q as f64 * 0.6, 2),
            });
        } else if roll < 17 {
            lines.push(BilledLine {
                seat: k,
                charge_type: "customerCredit".into(),
                unit_price: 0.0,
                quantity: 0,
                total: round_to(-up * 2.0, 2),
            });
        }
    }
    lines
}

pub fn write_billed(w: &World, out: &Path) -> Result<Vec<GeneratedFile>> {
    let mut files = Vec::new();
    for month in billed_months(w) {
        let inv = invoice_number(month);
        let month_end = add_months(month, 1).pred_opt().unwrap_or(month);
        let mut rows: Vec<Vec<String>> = Vec::new();
        for c in &w.customers {
            let rate = w.pc_to_bc(c.currency, month);
            for l in billed_lines(w, c, month) {
                let s = &c.seats[l.seat];
                let mut r = vec![String::new(); 47];
                r[0] = w.partner_id.clone();
                r[1] = c.id.clone();
                r[2] = c.name.clone();
                r[3] = c.domain.clone();
                r[4] = c.country.into();
                r[5] = inv.clone();
                r[6] = w.mpn_id.into();
                r[8] = format!(
                    "{}{:04}",
                    &s.subscription_id[..8].to_ascii_uppercase(),
                    l.seat
                );
                r[9] = us(c.created.max(w.ledger_start));
                r[10] = s.product_id.into();
                r[11] = "0001".into();
                r[12] = "CFQ7TTC0K5DJ".into();
                r[13] = s.sku.into();
                r[14] = s.product.into();
                r[15] = l.charge_type;
                r[16] = money2(l.unit_price);
                r[17] = l.quantity.to_string();
                r[18] = money2(l.total);
                r[19] = "0.00".into();
                r[20] = money2(l.total);
                r[21] = c.currency.into();
                r[23] = "Microsoft Corporation".into();
                r[25] = s.product.into();
                r[26] = s.subscription_id.clone();
                r[27] = us(month);
                r[28] = us(month_end);
                r[29] = "One-Year commitment for monthly/yearly billing".into();
                r[30] = money2(l.unit_price);
                r[31] = "Licenses".into();
                r[33] = l.quantity.to_string();
                r[34] = "Monthly".into();
                r[35] = "USD".into();
                r[36] = format!("{rate}");
                r[37] = us(month);
                r[46] = "OnlineServicesNCE".into();
                rows.push(r);
            }
        }
        let rel = format!("billed/{inv}_BilledInvoiceReconLineItems.csv");
        files.push(write_csv(out, &rel, &BILLED_COLUMNS, &rows)?);
    }
    Ok(files)
}

/// Usage cost of a customer per service month, billing currency: the usage rows of the window
/// plus, for days of the month before the window (the export covers only `days`), an estimate
/// from the customer's baseline spend.
fn usage_cost(
    w: &World,
    c: &Customer,
    daily: &[f64],
    month: NaiveDate,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> f64 {
    let month_end = add_months(month, 1);
    let mut total = 0.0;
    let mut d = month.max(c.created + Duration::days(1));
    let mut outside = 0;
    while d < month_end {
        match w.day_index(d) {
            Some(i) => total += daily[i],
            None => outside += 1,
        }
        d += Duration::days(1);
    }
    if outside > 0 {
        let rate = w.pc_to_bc(c.currency, month);
        total += c.base_daily_usd * rate * outside as f64 * (1.0 + 0.05 * normal(rng));
    }
    total
}

pub struct Invoice {
    pub id: String,
    pub customer: usize,
    pub issue: NaiveDate,
    pub due: NaiveDate,
    pub amount: f64,
    pub currency: &'static str,
    pub service_month: Option<NaiveDate>,
}

pub struct Payment {
    pub customer: usize,
    pub invoice_id: String,
    pub date: NaiveDate,
    pub amount: f64,
    pub currency: &'static str,
    pub instrument: &'static str,
}

pub struct Ledger {
    pub invoices: Vec<Invoice>,
    pub payments: Vec<Payment>,
}

/// The receivables ledger: one invoice per customer and past service month, credit notes, and
/// the payments each customer's behaviour produces, up to an export taken a week after `end`.
pub fn ledger(w: &World, daily: &[Vec<f64>]) -> Ledger {
    let export_date = w.end + Duration::days(7);
    let invoices = invoices(w, daily, export_date);
    let mut payments = Vec::new();
    for c in &w.customers {
        customer_payments(w, c, &invoices, export_date, &mut payments);
    }
    payments.sort_by(|a, b| {
        (a.date, a.customer, &a.invoice_id).cmp(&(b.date, b.customer, &b.invoice_id))
    });
    Ledger { invoices, payments }
}

/// The invoices (one per customer and past service month) and credit notes, sorted by issue date
/// and numbered.
fn invoices(w: &World, daily: &[Vec<f64>], export_date: NaiveDate) -> Vec<Invoice> {
    let months = ledger_months(w);
    let mut invoices: Vec<Invoice> = Vec::new();
    for c in &w.customers {
        let mut rng = rng_for(w.seed, stream::LEDGER, c.index as u64);
        for &m in &months {
            if c.created >= add_months(m, 1) {
                continue;
            }
            let billed: f64 = billed_lines(w, c, m).iter().map(|l| l.total).sum();
            let cost = usage_cost(w, c, &daily[c.index], m, &mut rng) + billed;
            let amount = round_to(cost * c.markup, 2);
            let issue = add_months(m, 1) + Duration::days(rng.random_range(0..3));
            if amount <= 0.0 || issue > export_date {
                continue;
            }
            invoices.push(Invoice {
                id: String::new(),
                customer: c.index,
                issue,
                due: issue + Duration::days(c.net_days),
                amount,
                currency: c.currency,
                service_month: Some(m),
            });
        }
        // A few credit notes (negative invoices), one of them refunded below.
        if matches!(c.role, Role::CreditRefund | Role::QuoteName | Role::Partial) {
            if let Some(last) = invoices.iter().rev().find(|i| i.customer == c.index) {
                let amount = -round_to((last.amount * 0.1).max(10.0), 2);
                let issue = (last.issue + Duration::days(9)).min(w.end - Duration::days(3));
                let sm = last.service_month;
                let cur = last.currency;
                invoices.push(Invoice {
                    id: String::new(),
                    customer: c.index,
                    issue,
                    due: issue,
                    amount,
                    currency: cur,
                    service_month: sm,
                });
            }
        }
    }
    invoices.sort_by_key(|i| (i.issue, i.customer, i.amount < 0.0));
    let (mut n_inv, mut n_cn) = (0, 0);
    for i in invoices.iter_mut() {
        i.id = if i.amount < 0.0 {
            n_cn += 1;
            format!("CN-{n_cn:05}")
        } else {
            n_inv += 1;
            format!("INV-{}-{n_inv:06}", i.issue.format("%Y%m"))
        };
    }

    invoices
}

/// The payments of customer `c` up to the export: by its scenario, payment style and role.
fn customer_payments(
    w: &World,
    c: &Customer,
    invoices: &[Invoice],
    export_date: NaiveDate,
    payments: &mut Vec<Payment>,
) {
    let mut rng = rng_for(w.seed, stream::LEDGER, 1 << 40 | c.index as u64);
    let mine: Vec<&Invoice> = invoices.iter().filter(|i| i.customer == c.index).collect();
    let regular: Vec<&&Invoice> = mine.iter().filter(|i| i.amount > 0.0).collect();
    let n = regular.len();
    for (k, inv) in regular.iter().enumerate() {
        let mut pay = |date: NaiveDate, amount: f64, id: String, currency: &'static str| {
            if date <= export_date {
                payments.push(Payment {
                    customer: c.index,
                    invoice_id: id,
                    date: date.max(inv.issue),
                    amount: round_to(amount, 2),
                    currency,
                    instrument: c.instrument,
                });
            }
        };
        let due = inv.due;
        let date = match c.scenario {
            Scenario::ChronicNonPayer => {
                if due < w.end - Duration::days(160) {
                    pay(
                        due - Duration::days(rng.random_range(0..=5)),
                        inv.amount,
                        inv.id.clone(),
                        inv.currency,
                    );
                }
                continue;
            }
            Scenario::StolenCard => continue,
            // ~45-50 days late: at any as-of date one invoice usually sits in 31-60 days past due.
            Scenario::LatePayer => due + Duration::days(rng.random_range(46..=50)),
            _ => match c.pay_style {
                super::world::PayStyle::Prompt => due - Duration::days(rng.random_range(0..=12)),
                super::world::PayStyle::AroundDue => due + Duration::days(rng.random_range(-5..=5)),
                super::world::PayStyle::Late => due + Duration::days(rng.random_range(3..=20)),
            },
        };
        let second_last = n >= 2 && k == n - 2;
        match c.role {
            Role::Overpayment if second_last => {
                pay(date, inv.amount + 25.0, inv.id.clone(), inv.currency)
            }
            Role::UnknownInvoice if second_last => {
                pay(date, inv.amount, format!("{}-A", inv.id), inv.currency)
            }
            Role::ForeignPayment if second_last => {
                // Paid in USD against a GBP invoice: cannot apply, becomes unapplied credit.
                let usd = inv.amount * w.fx(inv.currency, date);
                pay(date, usd, inv.id.clone(), "USD")
            }
            Role::Partial if second_last => {
                pay(date, inv.amount * 0.6, inv.id.clone(), inv.currency)
            }
            _ if c.scenario == Scenario::Normal && rng.random_bool(0.04) => {
                // Paid in two instalments; the second may fall after the export.
                let first = round_to(inv.amount * 0.5, 2);
                pay(date, first, inv.id.clone(), inv.currency);
                pay(
                    date + Duration::days(rng.random_range(15..=30)),
                    inv.amount - first,
                    inv.id.clone(),
                    inv.currency,
                );
            }
            _ => pay(date, inv.amount, inv.id.clone(), inv.currency),
        }
    }
    match c.role {
        Role::Unapplied => payments.push(Payment {
            customer: c.index,
            invoice_id: String::new(),
            date: w.end - Duration::days(20),
            amount: 150.0,
            currency: c.currency,
            instrument: c.instrument,
        }),
        Role::CreditRefund => {
            if let Some(cn) = mine.iter().find(|i| i.amount < 0.0) {
                let date = cn.issue + Duration::days(5);
                payments.push(Payment {
                    customer: c.index,
                    invoice_id: cn.id.clone(),
                    date,
                    amount: cn.amount,
                    currency: cn.currency,
                    instrument: "bank_transfer",
                });
            }
        }
        _ => {}
    }
    if c.scenario == Scenario::StolenCard {
        // One small card top-up against fast usage.
        payments.push(Payment {
            customer: c.index,
            invoice_id: String::new(),
            date: c.created + Duration::days(1),
            amount: 50.0,
            currency: c.currency,
            instrument: "prepaid_card",
        });
    }
}

pub fn write_receivables(w: &World, out: &Path, l: &Ledger) -> Result<Vec<GeneratedFile>> {
    let inv_rows: Vec<Vec<String>> = l
        .invoices
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                w.customers[i.customer].id.clone(),
                iso(i.issue),
                iso(i.due),
                money2(i.amount),
                i.currency.into(),
                i.service_month.map(month_key).unwrap_or_default(),
            ]
        })
        .collect();
    let pay_rows: Vec<Vec<String>> = l
        .payments
        .iter()
        .enumerate()
        .map(|(k, p)| {
            vec![
                format!("PAY-{:06}", k + 1),
                w.customers[p.customer].id.clone(),
                p.invoice_id.clone(),
                iso(p.date),
                money2(p.amount),
                p.currency.into(),
                p.instrument.into(),
            ]
        })
        .collect();
    Ok(vec![
        write_csv(
            out,
            "receivables/invoices.csv",
            &[
                "invoice_id",
                "customer_id",
                "issue_date",
                "due_date",
                "amount",
                "currency",
                "service_month",
            ],
            &inv_rows,
        )?,
        write_csv(
            out,
            "receivables/payments.csv",
            &[
                "payment_id",
                "customer_id",
                "invoice_id",
                "payment_date",
                "amount",
                "currency",
                "instrument",
            ],
            &pay_rows,
        )?,
    ])
}

/// Month-to-date spend at `end` and the forecast of SPEC 4.2 (k = min(7, days elapsed)).
pub fn mtd_and_forecast(w: &World, daily: &[f64]) -> (f64, f64) {
    let m = first_of_month(w.end);
    let mtd: f64 = w
        .dates
        .iter()
        .zip(daily)
        .filter(|(d, _)| **d >= m)
        .map(|(_, c)| c)
        .sum();
    let elapsed = w.end.day() as usize;
    let k = elapsed.min(7);
    let n = daily.len();
    let recent: f64 = daily[n.saturating_sub(k)..].iter().sum();
    let remaining = days_in_month(w.end) - elapsed as i64;
    (mtd, mtd + recent / k.max(1) as f64 * remaining as f64)
}

/// Highest full-month-equivalent spend over the months of the usage window.
fn monthly_equivalent(w: &World, daily: &[f64]) -> f64 {
    let mut best: f64 = 0.0;
    let mut i = 0;
    while i < daily.len() {
        let m = first_of_month(w.dates[i]);
        let (mut s, mut n) = (0.0, 0);
        while i < daily.len() && first_of_month(w.dates[i]) == m {
            s += daily[i];
            n += 1;
            i += 1;
        }
        best = best.max(s / n as f64 * days_in_month(m) as f64);
    }
    best
}

fn round_up(x: f64, step: f64) -> f64 {
    (x / step).ceil() * step
}

pub fn write_budgets(w: &World, out: &Path, daily: &[Vec<f64>]) -> Result<GeneratedFile> {
    let month = month_key(w.end);
    let mut rows = Vec::new();
    for c in &w.customers {
        let mut rng = rng_for(w.seed, stream::LEDGER, 2 << 40 | c.index as u64);
        let d = &daily[c.index];
        let (mtd, forecast) = mtd_and_forecast(w, d);
        let rate = w.pc_to_bc(c.currency, w.end);
        let standing = match c.scenario {
            Scenario::StolenCard => continue,
            Scenario::Normal if c.role == Role::None && rng.random_bool(0.04) => continue,
            Scenario::BudgetBlowout => {
                // Between mtd the day before end and mtd at end: mtd crosses on the last day,
                // while the forecast crossed days earlier.
                let last = d.last().copied().unwrap_or(0.0);
                round_to(mtd - last * 0.5, 2)
            }
            Scenario::OverBudget => round_up(mtd * 0.75, 10.0),
            Scenario::CryptoMining | Scenario::AccountTakeover => {
                round_up(c.base_daily_usd * rate * 31.0 * 1.6, 100.0)
            }
            _ => round_up(
                monthly_equivalent(w, d).max(forecast) * rng.random_range(1.4..2.2),
                100.0,
            ),
        };
        if c.role == Role::ForeignBudget {
            // Budget kept in USD although usage is billed in EUR.
            let usd = round_up(standing * w.fx(c.currency, w.end), 100.0);
            rows.push(vec![
                c.id.clone(),
                String::new(),
                format!("{usd:.2}"),
                "USD".into(),
            ]);
            continue;
        }
        rows.push(vec![
            c.id.clone(),
            String::new(),
            format!("{standing:.2}"),
            c.currency.into(),
        ]);
        if c.scenario == Scenario::Normal && rng.random_bool(0.08) {
            let specific = round_up(
                (standing * rng.random_range(0.9..1.2)).max(forecast * 1.4),
                100.0,
            );
            rows.push(vec![
                c.id.clone(),
                month.clone(),
                format!("{specific:.2}"),
                c.currency.into(),
            ]);
        }
        let _ = mtd;
    }
    write_csv(
        out,
        "budgets.csv",
        &["customer_id", "month", "budget", "currency"],
        &rows,
    )
}

pub fn write_customers(w: &World, out: &Path) -> Result<GeneratedFile> {
    let rows: Vec<Vec<String>> = w
        .customers
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.name.clone(),
                c.country.into(),
                iso(c.created),
                c.verified.to_string(),
                format!("{:.2}", c.credit_limit),
            ]
        })
        .collect();
    write_csv(
        out,
        "customers.csv",
        &[
            "customer_id",
            "customer_name",
            "country",
            "created_date",
            "verified",
            "credit_limit",
        ],
        &rows,
    )
}

pub fn write_fx(w: &World, out: &Path) -> Result<GeneratedFile> {
    let mut rows = Vec::new();
    let mut d = w.fx_start;
    while d <= w.fx_end() {
        for cur in ["EUR", "GBP"] {
            rows.push(vec![iso(d), cur.into(), format!("{:.6}", w.fx(cur, d))]);
        }
        d += Duration::days(1);
    }
    write_csv(out, "fx_rates.csv", &["date", "currency", "rate"], &rows)
}

pub fn write_dispositions(w: &World, out: &Path) -> Result<GeneratedFile> {
    let mut rows = Vec::new();
    for c in &w.customers {
        let row = match (c.scenario, c.role) {
            (Scenario::PlannedSpike, _) => Some((
                "usage",
                "planned",
                w.end + Duration::days(14),
                "a.khan",
                "Planned load test before the seasonal peak; confirmed by the customer's CTO",
            )),
            (_, Role::Overpayment) => Some((
                "new_meter",
                "legitimate",
                w.end - Duration::days(30),
                "m.rossi",
                "New analytics workload reviewed; verdict expired",
            )),
            (_, Role::CommaName) => Some((
                "*",
                "legitimate",
                w.end + Duration::days(60),
                "j.doe",
                "Enterprise customer, contract reviewed, \"known good\"",
            )),
            _ => None,
        };
        if let Some((reason, verdict, until, analyst, note)) = row {
            rows.push(vec![
                c.id.clone(),
                reason.into(),
                verdict.into(),
                iso(until),
                analyst.into(),
                note.into(),
            ]);
        }
    }
    write_csv(
        out,
        "dispositions.csv",
        &[
            "customer_id",
            "reason_code",
            "verdict",
            "valid_until",
            "analyst",
            "note",
        ],
        &rows,
    )
}

pub fn write_labels(w: &World, out: &Path) -> Result<GeneratedFile> {
    let rows: Vec<Vec<String>> = w
        .customers
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.name.clone(),
                c.scenario.id().into(),
                c.scenario.expected().into(),
                c.first_fraud_day(w.end).map(iso).unwrap_or_default(),
            ]
        })
        .collect();
    write_csv(
        out,
        "labels.csv",
        &[
            "customer_id",
            "customer_name",
            "scenario",
            "expected",
            "first_fraud_day",
        ],
        &rows,
    )
}
