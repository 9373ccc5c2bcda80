-- Who spends the most this month, and how does that compare with their budget?
-- For: account managers and finance. "This month" is the month of the last usage day in
-- usage_daily (the run's as-of date by default). The 20 customers with the highest cost this
-- month per currency, with their busiest meter category, budget and budget status.
WITH latest AS (
    SELECT STRFTIME(MAX(usage_date), '%Y-%m') AS month FROM usage_daily
),
month_usage AS (
    SELECT u.customer_id, u.currency, u.meter_category, u.cost, u.usage_date, l.month
    FROM usage_daily AS u
    CROSS JOIN latest AS l
    WHERE STRFTIME(u.usage_date, '%Y-%m') = l.month
),
by_customer AS (
    SELECT customer_id, currency, month, SUM(cost) AS cost, COUNT(DISTINCT usage_date) AS days_with_usage
    FROM month_usage
    GROUP BY customer_id, currency, month
),
by_meter AS (
    SELECT
        customer_id,
        currency,
        meter_category,
        SUM(cost) AS meter_cost
    FROM month_usage
    GROUP BY customer_id, currency, meter_category
),
top_meter AS (
    SELECT customer_id, currency, meter_category AS top_meter_category, meter_cost AS top_meter_cost
    FROM (
        SELECT
            customer_id,
            currency,
            meter_category,
            meter_cost,
            ROW_NUMBER() OVER (
                PARTITION BY customer_id, currency
                ORDER BY meter_cost DESC, meter_category DESC
            ) AS position
        FROM by_meter
    ) AS ranked
    WHERE position = 1
)
SELECT
    s.month,
    s.customer_id,
    c.customer_name,
    s.currency,
    ROUND(s.cost, 2) AS cost,
    s.days_with_usage,
    t.top_meter_category,
    ROUND(t.top_meter_cost, 2) AS top_meter_cost,
    b.budget,
    ROUND(b.utilization, 4) AS utilization,
    b.status AS budget_status
FROM by_customer AS s
LEFT JOIN top_meter AS t ON t.customer_id = s.customer_id AND t.currency = s.currency
LEFT JOIN customers AS c ON c.customer_id = s.customer_id
LEFT JOIN budget_status AS b
    ON b.customer_id = s.customer_id AND b.currency = s.currency AND b.month = s.month
ORDER BY s.cost DESC, s.customer_id, s.currency
LIMIT 20
