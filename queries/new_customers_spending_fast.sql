-- Which customers created in the last 30 days are already spending, and how fast?
-- For: risk analysts; a brand-new tenant running up cost before its first invoice is a classic
-- fraud pattern. Customers created within 30 days up to as_of, with their usage since creation:
-- total cost, days with usage, cost per day of life, and cost against their credit limit.
-- Parameters: as_of (YYYY-MM-DD); defaults to the run's as-of date.
WITH recent AS (
    SELECT customer_id, customer_name, country, created_date, verified, credit_limit
    FROM customers
    WHERE created_date > DATE '{{as_of}}' - INTERVAL '30 days'
      AND created_date <= DATE '{{as_of}}'
),
spend AS (
    SELECT
        u.customer_id,
        u.currency,
        SUM(u.cost) AS cost,
        COUNT(DISTINCT u.usage_date) AS days_with_usage,
        MIN(u.usage_date) AS first_usage,
        MAX(u.usage_date) AS last_usage
    FROM usage_daily AS u
    INNER JOIN recent AS r ON r.customer_id = u.customer_id
    WHERE u.usage_date >= r.created_date
      AND u.usage_date <= DATE '{{as_of}}'
    GROUP BY u.customer_id, u.currency
)
SELECT
    r.customer_id,
    r.customer_name,
    r.country,
    r.created_date,
    r.verified,
    CAST(DATE '{{as_of}}' AS INTEGER) - CAST(r.created_date AS INTEGER) + 1 AS days_since_created,
    s.currency,
    ROUND(s.cost, 2) AS cost,
    s.days_with_usage,
    s.first_usage,
    s.last_usage,
    ROUND(s.cost / (CAST(DATE '{{as_of}}' AS INTEGER) - CAST(r.created_date AS INTEGER) + 1), 2) AS cost_per_day,
    r.credit_limit,
    ROUND(s.cost / NULLIF(r.credit_limit, 0), 4) AS share_of_credit_limit
FROM recent AS r
INNER JOIN spend AS s ON s.customer_id = r.customer_id
ORDER BY cost_per_day DESC, r.customer_id, s.currency
