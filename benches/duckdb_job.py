"""The job a user would write in DuckDB instead of billrisk, for benches/e2e.sh.

Narrower than billrisk run on purpose (it is the baseline to beat): read every usage file, daily
cost per customer, Azure subscription and meter category, a 28-day trailing baseline (median and
MAD) with a z-score, the aging of the ledger, written to Parquet.

usage: python3 duckdb_job.py INPUT_DIR OUT_DIR [csv|parquet|ingested]

csv: the exports as downloaded; parquet: usage exported to typed Parquet with the export's
column names; ingested: the folder `billrisk ingest` wrote (canonical names, checked and typed).
"""
import os
import sys

import duckdb

inp, out, kind = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "csv")
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
ledger = f"read_csv('{inp}/receivables/{{}}*.csv', all_varchar=true, header=true)"
customer, entitlement = "lower(trim(customerid))", "lower(trim(entitlementid))"
meter = "metercategory"
if kind == "ingested":
    # billrisk's canonical tables: already trimmed, lower-cased, typed and checked.
    usage_src = f"read_parquet('{inp}/usage/*.parquet')"
    customer, entitlement, meter = "customer_id", "entitlement_id", "meter_category"
    usage_date, cost = "usage_date", "cost"
    ledger = f"read_parquet('{inp}/receivables/{{}}*.parquet')"
elif kind == "parquet":
    # The Parquet export is typed (UsageDate DATE, BillingPreTaxTotal DOUBLE), as a conversion
    # writes it: nothing left to parse.
    usage_src = f"read_parquet('{inp}/usage/*.parquet', union_by_name=true)"
    usage_date, cost = "usagedate", "billingpretaxtotal"
else:
    usage_src = (
        f"read_csv(['{inp}/usage/*.csv', '{inp}/usage/*.csv.gz'], union_by_name=true, "
        "all_varchar=true, header=true, normalize_names=true)"
    )
    usage_date = "coalesce(try_strptime(usagedate, '%m/%d/%Y')::DATE, try_cast(usagedate AS DATE))"
    cost = "try_cast(replace(billingpretaxtotal, '''', '') AS DOUBLE)"
con.execute(f"""
CREATE TEMP VIEW usage AS
SELECT {customer} AS customer_id,
       {entitlement} AS entitlement_id,
       {meter} AS meter_category,
       {usage_date} AS usage_date,
       {cost} AS cost
FROM {usage_src}
""")
con.execute(f"""
COPY (
  WITH daily AS (
    SELECT customer_id, entitlement_id, meter_category, usage_date, sum(cost) AS cost
    FROM usage GROUP BY ALL
  ),
  base AS (
    SELECT *, median(cost) OVER w AS baseline,
           quantile_cont(cost, 0.5) OVER w AS med
    FROM daily
    WINDOW w AS (PARTITION BY customer_id, entitlement_id, meter_category ORDER BY usage_date
                 RANGE BETWEEN INTERVAL 28 DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING)
  ),
  mad AS (
    SELECT b.*, (SELECT median(abs(d.cost - b.baseline)) FROM daily d
                 WHERE d.customer_id = b.customer_id AND d.entitlement_id = b.entitlement_id
                   AND d.meter_category = b.meter_category
                   AND d.usage_date BETWEEN b.usage_date - INTERVAL 28 DAYS AND b.usage_date - INTERVAL 1 DAY) AS mad
    FROM base b
  )
  SELECT *, (cost - baseline) / greatest(1.4826 * coalesce(mad, 0), 0.1 * coalesce(baseline, 0), 5.0) AS z
  FROM mad ORDER BY ALL
) TO '{out}/usage_daily.parquet' (FORMAT parquet)
""")
as_of = con.execute("SELECT max(usage_date) FROM usage").fetchone()[0]
con.execute(f"""
COPY (
  WITH inv AS (
    SELECT * FROM {ledger.format("invoices")}
  ), pay AS (
    SELECT * FROM {ledger.format("payments")}
  ), paid AS (
    SELECT invoice_id, currency, sum(amount::DECIMAL(38,4)) AS paid FROM pay
    WHERE payment_date::DATE <= DATE '{as_of}' GROUP BY ALL
  )
  SELECT i.invoice_id, i.customer_id, i.currency, i.amount::DECIMAL(38,4) AS amount,
         coalesce(p.paid, 0) AS paid, i.amount::DECIMAL(38,4) - coalesce(p.paid, 0) AS outstanding,
         DATE '{as_of}' - i.due_date::DATE AS days_past_due,
         CASE WHEN DATE '{as_of}' - i.due_date::DATE <= 0 THEN 'current'
              WHEN DATE '{as_of}' - i.due_date::DATE <= 30 THEN '1-30'
              WHEN DATE '{as_of}' - i.due_date::DATE <= 60 THEN '31-60'
              WHEN DATE '{as_of}' - i.due_date::DATE <= 90 THEN '61-90'
              WHEN DATE '{as_of}' - i.due_date::DATE <= 120 THEN '91-120'
              ELSE '120+' END AS bucket
  FROM inv i LEFT JOIN paid p ON p.invoice_id = i.invoice_id AND p.currency = i.currency
  WHERE i.issue_date::DATE <= DATE '{as_of}'
  ORDER BY ALL
) TO '{out}/aging_invoices.parquet' (FORMAT parquet)
""")
