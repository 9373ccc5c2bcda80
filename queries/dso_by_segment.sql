-- How quickly do customers pay, by country and size?
-- For: finance and credit control setting payment terms and credit limits. Days sales outstanding
-- over 90 days (dso_90d of aging_customers) per country, size band and currency: average, median
-- and worst, with the net outstanding of the segment. The size band here comes from the credit
-- limit in the customer master: small under 5,000, medium under 50,000, large from 50,000,
-- unknown without a limit.
WITH segmented AS (
    SELECT
        COALESCE(c.country, 'unknown') AS country,
        CASE
            WHEN c.credit_limit IS NULL THEN 'unknown'
            WHEN c.credit_limit < 5000 THEN 'small'
            WHEN c.credit_limit < 50000 THEN 'medium'
            ELSE 'large'
        END AS size_band,
        a.currency,
        a.dso_90d,
        a.net_outstanding
    FROM aging_customers AS a
    LEFT JOIN customers AS c ON c.customer_id = a.customer_id
)
SELECT
    country,
    size_band,
    currency,
    COUNT(*) AS customers,
    ROUND(AVG(dso_90d), 1) AS avg_dso_90d,
    ROUND(MEDIAN(dso_90d), 1) AS median_dso_90d,
    ROUND(MAX(dso_90d), 1) AS max_dso_90d,
    SUM(net_outstanding) AS net_outstanding
FROM segmented
GROUP BY country, size_band, currency
ORDER BY avg_dso_90d DESC, country, size_band, currency
