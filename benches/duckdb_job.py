#!/usr/bin/env python3
"""duckdb_job.py INPUT_DIR OUT_DIR [csv|parquet|ingested]: the job an analyst would write in
DuckDB instead of billrisk, with window functions only (benches/e2e.sh runs it beside billrisk).

Adapted from shared/bench/duckdb_job.py to the folders `billrisk generate` writes; it computes the
same: the daily cost per customer, Azure subscription and meter category with a trailing 28-day
mean / sample standard deviation and a z-score, and the receivables aging per invoice
(outstanding and days past due as of the last usage date), both written as Parquet.

csv: the exports as downloaded (usage/*.csv and *.csv.gz, receivables/*.csv);
parquet: usage exported as typed Parquet with the export's column names (dates DATE, amounts
DOUBLE, as `billrisk generate --parquet` writes it), the ledger as CSV;
ingested: the folder `billrisk ingest` wrote (canonical names, checked and typed Parquet).

The earlier baseline of this script computed a median absolute deviation with a correlated
subquery, which re-reads 28 days of each series for every row; no analyst would write it (101 s at
10M rows where this window job takes a few seconds), so it is gone."""
import os
import sys

import duckdb

inp, out = sys.argv[1], sys.argv[2]
kind = sys.argv[3] if len(sys.argv) > 3 else "csv"
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
if kind == "ingested":
    usage = f"""SELECT customer_id, entitlement_id, meter_category, usage_date, cost
                FROM read_parquet('{inp}/usage/*.parquet')"""
    inv = f"read_parquet('{inp}/receivables/invoices*.parquet')"
    pay = f"read_parquet('{inp}/receivables/payments*.parquet')"
else:
    if kind == "parquet":
        usage = f"""SELECT lower(trim(customerid)) AS customer_id,
                           lower(trim(entitlementid)) AS entitlement_id,
                           metercategory AS meter_category, usagedate::DATE AS usage_date,
                           billingpretaxtotal::DOUBLE AS cost
                    FROM read_parquet('{inp}/usage/*.parquet', union_by_name = true)"""
    else:
        usage = f"""SELECT lower(trim(customerid)) AS customer_id,
                           lower(trim(entitlementid)) AS entitlement_id,
                           metercategory AS meter_category,
                           coalesce(try_strptime(usagedate, '%m/%d/%Y')::DATE,
                                    try_cast(left(usagedate, 10) AS DATE)) AS usage_date,
                           try_cast(replace(billingpretaxtotal, '''', '') AS DOUBLE) AS cost
                    FROM read_csv(['{inp}/usage/*.csv', '{inp}/usage/*.csv.gz'], header = true,
                                  union_by_name = true, normalize_names = true,
                                  all_varchar = true)"""
    types = "types = {'amount': 'DECIMAL(38,4)', 'invoice_id': 'VARCHAR'}"
    inv = f"read_csv('{inp}/receivables/invoices*.csv', header = true, {types})"
    pay = f"read_csv('{inp}/receivables/payments*.csv', header = true, {types})"
con.sql(f"CREATE TEMP VIEW usage AS {usage}")
as_of = con.sql("SELECT max(usage_date) FROM usage").fetchall()[0][0]
con.sql(f"""
COPY (
  WITH d AS (SELECT customer_id, entitlement_id, meter_category, usage_date, sum(cost) AS cost
             FROM usage GROUP BY ALL)
  SELECT *, (cost - avg(cost) OVER w) / nullif(stddev_samp(cost) OVER w, 0) AS z
  FROM d
  WINDOW w AS (PARTITION BY customer_id, entitlement_id, meter_category ORDER BY usage_date
               RANGE BETWEEN INTERVAL 28 DAYS PRECEDING AND INTERVAL 1 DAYS PRECEDING)
) TO '{out}/usage_daily.parquet' (FORMAT parquet, COMPRESSION zstd)
""")
con.sql(f"""
COPY (
  WITH i AS (SELECT * FROM {inv} WHERE issue_date::DATE <= DATE '{as_of}'),
       p AS (SELECT invoice_id, currency, sum(amount) AS paid FROM {pay}
             WHERE payment_date::DATE <= DATE '{as_of}' GROUP BY ALL)
  SELECT i.invoice_id, i.customer_id, i.currency, i.amount - coalesce(p.paid, 0) AS outstanding,
         DATE '{as_of}' - i.due_date::DATE AS days_past_due
  FROM i LEFT JOIN p ON p.invoice_id = i.invoice_id AND p.currency = i.currency
) TO '{out}/aging_invoices.parquet' (FORMAT parquet)
""")
