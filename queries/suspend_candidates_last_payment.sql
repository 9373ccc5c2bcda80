-- Which customers are up for suspension or write-off review, and when did they last pay?
-- For: credit control deciding whom to suspend today. Customers whose collections action is
-- suspend or write_off_review, with their last payment (date and amount, refunds ignored) in the
-- same currency; a customer that never paid shows nulls. Largest net outstanding first.
WITH ranked_payments AS (
    SELECT
        customer_id,
        currency,
        payment_date,
        amount,
        ROW_NUMBER() OVER (
            PARTITION BY customer_id, currency
            ORDER BY payment_date DESC, payment_id DESC
        ) AS recency
    FROM payments
    WHERE amount > 0
),
last_payment AS (
    SELECT customer_id, currency, payment_date AS last_payment_date, amount AS last_payment_amount
    FROM ranked_payments
    WHERE recency = 1
)
SELECT
    a.customer_id,
    c.customer_name,
    c.country,
    a.currency,
    a.action,
    a.oldest_days_past_due,
    a.total_outstanding,
    a.unapplied_credit,
    a.net_outstanding,
    l.last_payment_date,
    l.last_payment_amount
FROM aging_customers AS a
LEFT JOIN last_payment AS l ON l.customer_id = a.customer_id AND l.currency = a.currency
LEFT JOIN customers AS c ON c.customer_id = a.customer_id
WHERE a.action IN ('suspend', 'write_off_review')
ORDER BY a.net_outstanding DESC, a.customer_id, a.currency
