-- How much is owed, and how late, per customer country?
-- For: finance and credit control, to see where receivables concentrate. Sums of every aging
-- bucket, total and net outstanding per country and currency (currencies are never added
-- together). Customers missing from the customer master count under country 'unknown'.
SELECT
    COALESCE(c.country, 'unknown') AS country,
    a.currency,
    COUNT(*) AS customers,
    SUM(a.bucket_current) AS bucket_current,
    SUM(a.bucket_1_30) AS bucket_1_30,
    SUM(a.bucket_31_60) AS bucket_31_60,
    SUM(a.bucket_61_90) AS bucket_61_90,
    SUM(a.bucket_91_120) AS bucket_91_120,
    SUM(a.bucket_120_plus) AS bucket_120_plus,
    SUM(a.total_outstanding) AS total_outstanding,
    SUM(a.unapplied_credit) AS unapplied_credit,
    SUM(a.net_outstanding) AS net_outstanding,
    MAX(a.oldest_days_past_due) AS oldest_days_past_due
FROM aging_customers AS a
LEFT JOIN customers AS c ON c.customer_id = a.customer_id
GROUP BY COALESCE(c.country, 'unknown'), a.currency
ORDER BY net_outstanding DESC, country, a.currency
