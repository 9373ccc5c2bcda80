-- Which prepaid-card customers are over their budget, or forecast to be by month end?
-- For: risk analysts and account managers. Prepaid cards are the instrument of choice for stolen
-- or throwaway funds; a prepaid payer burning past its budget is worth a call before the month
-- closes. One row per customer and budget currency, largest forecast overrun first.
WITH prepaid AS (
    SELECT
        customer_id,
        COUNT(*) AS prepaid_payments,
        SUM(amount) AS prepaid_amount,
        MAX(payment_date) AS last_prepaid_payment
    FROM payments
    WHERE instrument = 'prepaid_card'
    GROUP BY customer_id
)
SELECT
    b.customer_id,
    c.customer_name,
    c.verified,
    b.month,
    b.currency,
    b.budget,
    b.mtd_spend,
    ROUND(b.utilization, 4) AS utilization,
    b.forecast,
    b.forecast - b.budget AS forecast_overrun,
    b.status,
    b.budget_crossed_on,
    p.prepaid_payments,
    p.prepaid_amount,
    p.last_prepaid_payment
FROM budget_status AS b
INNER JOIN prepaid AS p ON p.customer_id = b.customer_id
LEFT JOIN customers AS c ON c.customer_id = b.customer_id
WHERE b.status IN ('over', 'forecast_over')
ORDER BY forecast_overrun DESC, b.customer_id, b.currency
