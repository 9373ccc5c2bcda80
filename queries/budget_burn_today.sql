-- How much of each budget went on the last day, and how long would the rest last at that pace?
-- For: account managers and the customers' own FinOps contacts, as a daily burn check. For the
-- last day in budget_daily: that day's spend, the month-to-date spend, the budget, the share of
-- the budget burnt that day, what is left (negative once over budget), and the days the rest
-- would last at that day's rate (0 once over budget, null after a day without spend).
-- Customers without a budget are left out; fastest burn first.
SELECT
    d.usage_date,
    d.customer_id,
    c.customer_name,
    ROUND(d.spend, 2) AS spend,
    ROUND(d.cumulative_spend, 2) AS cumulative_spend,
    d.budget,
    ROUND(d.spend / d.budget, 4) AS budget_share_today,
    ROUND(d.budget - d.cumulative_spend, 2) AS budget_left,
    CASE
        WHEN d.cumulative_spend >= d.budget THEN 0
        ELSE ROUND((d.budget - d.cumulative_spend) / NULLIF(d.spend, 0), 1)
    END AS days_left_at_this_rate
FROM budget_daily AS d
LEFT JOIN customers AS c ON c.customer_id = d.customer_id
WHERE d.usage_date IN (SELECT MAX(usage_date) FROM budget_daily)
  AND d.budget > 0
ORDER BY budget_share_today DESC, d.customer_id
