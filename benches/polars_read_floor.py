#!/usr/bin/env python3
"""polars_read_floor.py INPUT_DIR OUT_DIR: the reading floor for a billrisk run from CSV exports
(benches/e2e.sh runs it beside billrisk, in the same run, on the same generated folder).

Taken from shared/bench/polars_read_floor.py unchanged in what it computes; the folders
`billrisk generate` writes have the layout it expects (usage/*.csv and usage/*.csv.gz).
Reads every usage export under INPUT_DIR/usage, keeps the 20 columns billrisk reads (with the
names real exports use for them, matched as billrisk matches headers), types them (US
month/day/year or ISO dates, numbers, lower-cased ids), writes them as Parquet, and writes the
daily cost and quantity per customer, Azure subscription, meter category, day and currency.
No checks, no row accounting, no other source: the least time Polars needs to read what billrisk
reads. A full run can approach it, not beat it."""
import glob
import os
import sys

import polars as pl

inp, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
# The 20 columns billrisk reads, each with the names real exports have used for it (matched with
# case, spaces, underscores and a BOM removed, as billrisk matches them).
COLS = {"CustomerId": ["customerid", "customertenantid"],
        "CustomerName": ["customername", "customercompanyname"],
        "CustomerCountry": ["customercountry"], "InvoiceNumber": ["invoicenumber"],
        "SubscriptionId": ["subscriptionid"], "EntitlementId": ["entitlementid"],
        "UsageDate": ["usagedate"], "MeterCategory": ["metercategory"],
        "MeterSubCategory": ["metersubcategory"], "MeterName": ["metername"], "MeterId": ["meterid"],
        "ResourceLocation": ["resourcelocation"], "MeterRegion": ["meterregion"],
        "ResourceURI": ["resourceuri", "resourceid", "instancename"], "ChargeType": ["chargetype"],
        "UnitPrice": ["effectiveunitprice", "unitprice"], "Quantity": ["quantity", "consumedquantity"],
        "Unit": ["unit", "unitofmeasure", "unittype"],
        "BillingPreTaxTotal": ["billingpretaxtotal", "pretaxcharges"],
        "BillingCurrency": ["billingcurrency", "currency"]}


def norm(name):
    return "".join(ch for ch in name.lstrip("\ufeff").lower() if ch.isalnum())


def scan(path):
    header = pl.read_csv(path, n_rows=0, infer_schema=False).columns
    by_norm = {norm(h): h for h in header}
    pick = {}
    for want, aliases in COLS.items():
        found = next((by_norm[a] for a in aliases if a in by_norm), None)
        if found is not None:
            pick[found] = want
    if path.endswith(".gz"):
        frame = pl.read_csv(path, infer_schema=False, columns=list(pick)).lazy()
    else:
        frame = pl.scan_csv(path, infer_schema=False).select(list(pick))
    frame = frame.rename(pick)
    missing = [c for c in COLS if c not in pick.values()]
    return frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing]).select(list(COLS))


def num(c):
    return pl.col(c).str.strip_chars("' ").cast(pl.Float64, strict=False)


files = sorted(glob.glob(f"{inp}/usage/*.csv") + glob.glob(f"{inp}/usage/*.csv.gz"))
date = pl.col("UsageDate").str.strip_chars()
usage = pl.concat([scan(f) for f in files]).select(
    pl.col("CustomerId").str.strip_chars().str.to_lowercase().alias("customer_id"),
    pl.col("CustomerName").alias("customer_name"),
    pl.col("CustomerCountry").alias("country"),
    pl.col("InvoiceNumber").alias("invoice_number"),
    pl.col("SubscriptionId").str.strip_chars().str.to_lowercase().alias("subscription_id"),
    pl.col("EntitlementId").str.strip_chars().str.to_lowercase().alias("entitlement_id"),
    pl.coalesce(date.str.to_date("%m/%d/%Y", strict=False),
                date.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)).alias("usage_date"),
    pl.col("MeterCategory").alias("meter_category"),
    pl.col("MeterSubCategory").alias("meter_subcategory"),
    pl.col("MeterName").alias("meter_name"),
    pl.col("MeterId").alias("meter_id"),
    pl.col("ResourceLocation").alias("resource_location"),
    pl.col("MeterRegion").alias("meter_region"),
    pl.col("ResourceURI").str.to_lowercase().alias("resource_id"),
    pl.col("ChargeType").alias("charge_type"),
    num("UnitPrice").alias("unit_price"),
    num("Quantity").alias("quantity"),
    pl.col("Unit").alias("unit"),
    num("BillingPreTaxTotal").alias("cost"),
    pl.col("BillingCurrency").alias("currency"),
)
usage.sink_parquet(f"{out}/usage.parquet", compression="zstd")
keys = ["customer_id", "entitlement_id", "meter_category", "usage_date", "currency"]
(pl.scan_parquet(f"{out}/usage.parquet")
   .group_by(keys).agg(pl.col("cost").sum(), pl.col("quantity").sum())
   .sort(keys)
   .sink_parquet(f"{out}/usage_daily.parquet", compression="zstd"))
