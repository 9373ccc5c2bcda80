//! usage/: Partner Center new-commerce daily rated usage, one file per calendar month and part
//! (c000, c001, ...), billed months named after their invoice (G..._BilledUsage_c000.csv) and the
//! month of `end` unbilled (UnbilledUsage_yyyymm_c000.csv). The 55 columns come in the real
//! order, and the quirks of real downloads are spread over the files (see `Quirk`).

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;

use super::world::{add_months, first_of_month, rated, Customer, MeterKind, MeterUse, World};
use super::{create_file, csv_field, io_err, GeneratedFile};
use crate::error::{Error, Result};

/// The 55 columns of the real November 2025 export, in its order.
pub const USAGE_COLUMNS: [&str; 55] = [
    "PartnerId",
    "PartnerName",
    "CustomerId",
    "CustomerName",
    "CustomerDomainName",
    "CustomerCountry",
    "MpnId",
    "Tier2MpnId",
    "InvoiceNumber",
    "ProductId",
    "SkuId",
    "AvailabilityId",
    "SkuName",
    "ProductName",
    "PublisherName",
    "PublisherId",
    "SubscriptionDescription",
    "SubscriptionId",
    "ChargeStartDate",
    "ChargeEndDate",
    "UsageDate",
    "MeterType",
    "MeterCategory",
    "MeterId",
    "MeterSubCategory",
    "MeterName",
    "MeterRegion",
    "Unit",
    "ResourceLocation",
    "ConsumedService",
    "ResourceGroup",
    "ResourceURI",
    "ChargeType",
    "UnitPrice",
    "Quantity",
    "UnitType",
    "BillingPreTaxTotal",
    "BillingCurrency",
    "PricingPreTaxTotal",
    "PricingCurrency",
    "ServiceInfo1",
    "ServiceInfo2",
    "Tags",
    "AdditionalInfo",
    "EffectiveUnitPrice",
    "PCToBCExchangeRate",
    "PCToBCExchangeRateDate",
    "EntitlementId",
    "EntitlementDescription",
    "PartnerEarnedCreditPercentage",
    "CreditPercentage",
    "CreditType",
    "BenefitId",
    "BenefitOrderId",
    "BenefitType",
];

/// One file-level quirk of real downloads; file i of the layout gets QUIRKS[i] (the rest: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    None,
    /// M/D/YYYY dates, as in the documentation samples.
    NonPadded,
    /// A time after ChargeStartDate / ChargeEndDate, as in legacy files (11/01/2025 00:00).
    LegacyTime,
    /// UTF-8 byte order mark and CRLF line ends (saved by a spreadsheet on Windows).
    BomCrlf,
    /// Columns in another order under older names (UnitOfMeasure, ResourceUri, MPNID).
    Shuffled,
    /// gzip-compressed (.csv.gz).
    Gzip,
}

const QUIRKS: [Quirk; 5] = [
    Quirk::NonPadded,
    Quirk::LegacyTime,
    Quirk::BomCrlf,
    Quirk::Shuffled,
    Quirk::Gzip,
];

/// Partner Center invoice number of a billed month (one invoice per partner and month).
pub fn invoice_number(month: NaiveDate) -> String {
    format!(
        "G{:010}",
        127_575_000 + (month.year() as u32 * 12 + month.month0()) as u64
    )
}

pub struct UsageFile {
    pub month: NaiveDate,
    pub part: usize,
    pub parts: usize,
    pub billed: bool,
    pub quirk: Quirk,
    pub rel: String,
}

/// The usage files of a world: every month of the usage window split in enough parts that each
/// quirk gets its own file.
pub fn layout(world: &World, parquet: bool) -> Vec<UsageFile> {
    let end_month = first_of_month(world.end);
    let mut months = vec![first_of_month(world.start)];
    while let Some(&m) = months.last() {
        if m >= end_month {
            break;
        }
        months.push(add_months(m, 1));
    }
    let parts = QUIRKS.len().div_ceil(months.len()).max(1) + usize::from(months.len() == 1);
    let mut files = Vec::new();
    for m in &months {
        for part in 0..parts {
            let billed = *m < end_month;
            let quirk = if parquet {
                Quirk::None
            } else {
                QUIRKS.get(files.len()).copied().unwrap_or(Quirk::None)
            };
            let ext = if parquet {
                "parquet"
            } else if quirk == Quirk::Gzip {
                "csv.gz"
            } else {
                "csv"
            };
            let rel = if billed {
                format!("usage/{}_BilledUsage_c{part:03}.{ext}", invoice_number(*m))
            } else {
                format!(
                    "usage/UnbilledUsage_{}{:02}_c{part:03}.{ext}",
                    m.year(),
                    m.month()
                )
            };
            files.push(UsageFile {
                month: *m,
                part,
                parts,
                billed,
                quirk,
                rel,
            });
        }
    }
    files
}

fn fmt_date(buf: &mut String, d: NaiveDate, padded: bool) {
    use std::fmt::Write as _;
    let _ = if padded {
        write!(buf, "{:02}/{:02}/{}", d.month(), d.day(), d.year())
    } else {
        write!(buf, "{}/{}/{}", d.month(), d.day(), d.year())
    };
}

/// Money as Partner Center writes it: up to 8 decimals, tiny values in scientific notation.
pub fn fmt_money(buf: &mut String, x: f64) {
    use std::fmt::Write as _;
    if x != 0.0 && x.abs() < 1e-4 {
        // Rust writes 9.99E-8; the exports write 9.99E-08.
        let s = format!("{x:.2E}");
        if let Some((mant, exp)) = s.split_once('E') {
            let (sign, digits) = exp
                .strip_prefix('-')
                .map(|d| ("-", d))
                .unwrap_or(("+", exp));
            let _ = write!(buf, "{mant}E{sign}{digits:0>2}");
            return;
        }
    }
    let start = buf.len();
    let _ = write!(buf, "{x:.8}");
    while buf.len() > start && buf.ends_with('0') {
        buf.pop();
    }
    if buf.ends_with('.') {
        buf.pop();
    }
}

/// Writes every usage file (in parallel; each file's bytes depend only on the world).
pub fn write_all(world: &World, out: &Path, parquet: bool) -> Result<Vec<GeneratedFile>> {
    let files = layout(world, parquet);
    files
        .par_iter()
        .map(|f| write_one(world, out, f, parquet))
        .collect()
}

fn write_one(world: &World, out: &Path, f: &UsageFile, parquet: bool) -> Result<GeneratedFile> {
    let path = out.join(&f.rel);
    let n = world.customers.len();
    let (lo, hi) = (f.part * n / f.parts, (f.part + 1) * n / f.parts);
    let month_end = add_months(f.month, 1).pred_opt().unwrap_or(f.month);
    let invoice = if f.billed {
        invoice_number(f.month)
    } else {
        String::new()
    };
    let order: Vec<usize> = if f.quirk == Quirk::Shuffled {
        shuffled_order(world.seed)
    } else {
        (0..55).collect()
    };

    let mut fields: Vec<String> = vec![String::new(); 55];
    let mut columns: Vec<Vec<String>> = if parquet {
        vec![Vec::new(); 55]
    } else {
        Vec::new()
    };
    let mut sink = if parquet {
        None
    } else {
        Some(create_file(&path, f.quirk == Quirk::Gzip)?)
    };
    let eol: &[u8] = if f.quirk == Quirk::BomCrlf {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut line = Vec::with_capacity(2048);
    if let Some(s) = sink.as_mut() {
        if f.quirk == Quirk::BomCrlf {
            line.extend_from_slice("\u{feff}".as_bytes());
        }
        for (k, &c) in order.iter().enumerate() {
            if k > 0 {
                line.push(b',');
            }
            let name = match (f.quirk, USAGE_COLUMNS[c]) {
                (Quirk::Shuffled, "Unit") => "UnitOfMeasure",
                (Quirk::Shuffled, "ResourceURI") => "ResourceUri",
                (Quirk::Shuffled, "MpnId") => "MPNID",
                (_, other) => other,
            };
            line.extend_from_slice(name.as_bytes());
        }
        line.extend_from_slice(eol);
        s.write_all(&line).map_err(|e| io_err(&path, e))?;
    }

    let mut rows: u64 = 0;
    for (d, date) in world.dates.iter().enumerate() {
        if *date < f.month || *date > month_end {
            continue;
        }
        for c in &world.customers[lo..hi] {
            let rate = world.pc_to_bc(c.currency, *date);
            for u in &c.uses {
                let q = u.qty[d];
                if q <= 0.0 {
                    continue;
                }
                let apostrophe = !parquet && (rows + c.index as u64).is_multiple_of(173);
                let row = Row {
                    world,
                    file: f,
                    customer: c,
                    meter_use: u,
                    date: *date,
                    qty: q,
                    rate,
                    invoice: &invoice,
                    month_end,
                };
                row.fill(&mut fields, apostrophe);
                rows += 1;
                if let Some(s) = sink.as_mut() {
                    line.clear();
                    for (k, &col) in order.iter().enumerate() {
                        if k > 0 {
                            line.push(b',');
                        }
                        csv_field(&mut line, &fields[col]);
                    }
                    line.extend_from_slice(eol);
                    s.write_all(&line).map_err(|e| io_err(&path, e))?;
                } else {
                    for (col, v) in fields.iter().enumerate() {
                        columns[col].push(v.clone());
                    }
                }
            }
        }
    }
    match sink {
        Some(s) => s.finish().map_err(|e| io_err(&path, e))?,
        None => write_parquet(&path, columns)?,
    }
    Ok(GeneratedFile { path, rows })
}

/// One usage row to render: a customer's use of a meter on a day, in one file.
struct Row<'a> {
    world: &'a World,
    file: &'a UsageFile,
    customer: &'a Customer,
    meter_use: &'a MeterUse,
    date: NaiveDate,
    qty: f64,
    rate: f64,
    invoice: &'a str,
    month_end: NaiveDate,
}

impl Row<'_> {
    /// Clears and fills the 55 fields of the row (in `USAGE_COLUMNS` order).
    /// `apostrophe`: the quantity carries the apostrophe guard some tools add against
    /// spreadsheet formulas.
    fn fill(&self, fields: &mut [String], apostrophe: bool) {
        let padded = self.file.quirk != Quirk::NonPadded;
        let m = &self.world.meters[self.meter_use.meter];
        let (_, pricing, billing) = rated(self.qty, m.price, self.rate);
        let sub = &self.customer.subs[self.meter_use.sub];
        for s in fields.iter_mut() {
            s.clear();
        }
        fields[0].push_str(&self.world.partner_id);
        fields[1].push_str(self.world.partner_name);
        fields[2].push_str(&self.customer.id);
        fields[3].push_str(&self.customer.name);
        fields[4].push_str(&self.customer.domain);
        fields[5].push_str(self.customer.country);
        fields[6].push_str(self.world.mpn_id);
        fields[8].push_str(self.invoice);
        fields[9].push_str("DZH318Z0BPS6");
        fields[10].push_str("0001");
        fields[11].push_str("DZH318Z0BNZP");
        fields[12].push_str("Azure plan");
        fields[13].push_str("Azure plan");
        fields[14].push_str("Microsoft");
        fields[16].push_str("Azure plan");
        fields[17].push_str(&self.customer.plan_id);
        fmt_date(&mut fields[18], self.file.month, padded);
        fmt_date(&mut fields[19], self.month_end, padded);
        if self.file.quirk == Quirk::LegacyTime {
            fields[18].push_str(" 00:00");
            fields[19].push_str(" 23:59");
        }
        fmt_date(&mut fields[20], self.date, padded);
        fields[21].push_str(m.unit);
        fields[22].push_str(m.category);
        fields[23].push_str(&m.id);
        fields[24].push_str(m.sub_category);
        fields[25].push_str(m.name);
        fields[26].push_str(super::world::region_display(self.meter_use.region));
        fields[27].push_str(m.unit);
        fields[28].push_str(self.meter_use.region);
        fields[29].push_str(&self.meter_use.consumed_service);
        fields[30].push_str(&self.meter_use.resource_group);
        fields[31].push_str(&self.meter_use.resource_uri);
        fields[32].push_str("Usage");
        fmt_money(&mut fields[33], m.price);
        if apostrophe {
            // The apostrophe guard some tools add against spreadsheet formulas.
            fields[34].push('\'');
        }
        {
            use std::fmt::Write as _;
            let _ = write!(fields[34], "{:.6}", self.qty);
        }
        fields[35].push_str(m.unit);
        fmt_money(&mut fields[36], billing);
        fields[37].push_str(self.customer.currency);
        fmt_money(&mut fields[38], pricing);
        fields[39].push_str("USD");
        fields[42].push_str(&self.meter_use.tags);
        additional_info(&mut fields[43], m.kind, m.name, self.meter_use.region);
        fmt_money(&mut fields[44], m.price);
        fmt_money(&mut fields[45], self.rate);
        fmt_date(&mut fields[46], self.file.month, padded);
        fields[47].push_str(&sub.id);
        fields[48].push_str(&sub.name);
        fields[49].push('0');
        fields[50].push('0');
        fields[51].push_str("None");
    }
}

fn additional_info(buf: &mut String, kind: MeterKind, name: &str, region: &str) {
    use std::fmt::Write as _;
    match kind {
        MeterKind::Vm | MeterKind::Gpu => {
            let size = name.replace(' ', "_");
            let _ = write!(buf, "{{\"ServiceType\":\"Standard_{size}\",\"ImageType\":\"Canonical\",\"UsageType\":\"ComputeHR\",\"Region\":\"{region}\"}}");
        }
        MeterKind::Disk => buf.push_str("{\"DiskType\":\"Premium\",\"Redundancy\":\"LRS\"}"),
        _ => {}
    }
}

/// The column order of the shuffled file: a fixed permutation for a seed.
fn shuffled_order(seed: u64) -> Vec<usize> {
    use rand::Rng;
    let mut rng = super::world::rng_for(seed, super::world::stream::LAYOUT, 0);
    let mut order: Vec<usize> = (0..55).collect();
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    order
}

/// Columns a conversion tool types as dates when it turns the export into Parquet.
const PARQUET_DATES: [&str; 4] = [
    "ChargeStartDate",
    "ChargeEndDate",
    "UsageDate",
    "PCToBCExchangeRateDate",
];
/// Columns a conversion tool types as DOUBLE.
const PARQUET_NUMBERS: [&str; 8] = [
    "UnitPrice",
    "Quantity",
    "BillingPreTaxTotal",
    "PricingPreTaxTotal",
    "EffectiveUnitPrice",
    "PCToBCExchangeRate",
    "PartnerEarnedCreditPercentage",
    "CreditPercentage",
];

/// Usage as a Partner Center export converted once to Parquet (DuckDB's `COPY ... TO`, pandas'
/// `to_parquet`): dates as DATE, amounts and quantities as DOUBLE (parsed from the text the CSV
/// holds, so both files carry the same values), everything else as text.
fn write_parquet(path: &Path, columns: Vec<Vec<String>>) -> Result<()> {
    use polars::prelude::*;
    let err = |source| Error::Polars {
        stage: "generate usage parquet",
        source,
    };
    let height = columns.first().map(Vec::len).unwrap_or(0);
    let cols = columns
        .into_iter()
        .zip(USAGE_COLUMNS.iter())
        .map(|(v, name)| {
            let text = Column::new((*name).into(), v);
            if PARQUET_DATES.contains(name) {
                Ok(crate::ingest::convert::parse_dates(text.str()?)
                    .with_name((*name).into())
                    .into_column())
            } else if PARQUET_NUMBERS.contains(name) {
                text.strict_cast(&DataType::Float64)
            } else {
                Ok(text)
            }
        })
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(err)?;
    let mut df = DataFrame::new(height, cols).map_err(err)?;
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    ParquetWriter::new(file).finish(&mut df).map_err(err)?;
    Ok(())
}
