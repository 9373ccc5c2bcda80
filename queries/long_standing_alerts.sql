-- Which alerts have stood for a week or more without an analyst's verdict?
-- For: the risk team lead checking that nothing sits in the queue unreviewed.
-- Parameters: as_of (YYYY-MM-DD); defaults to the run's as-of date.
-- Active (unsuppressed) alerts per customer and reason code whose first_seen (carried from run to
-- run) is seven or more days before as_of, the oldest first, with the customer's tier.
SELECT
    a.customer_id,
    r.customer_name,
    r.tier,
    a.signal,
    MIN(a.first_seen) AS first_seen,
    CAST(DATE '{{as_of}}' AS INTEGER) - CAST(MIN(a.first_seen) AS INTEGER) AS days_standing,
    MAX(a.date) AS last_seen,
    MAX(a.score) AS strongest
FROM anomalies AS a
LEFT JOIN risk_scores AS r ON r.customer_id = a.customer_id
WHERE NOT a.suppressed
GROUP BY a.customer_id, r.customer_name, r.tier, a.signal
HAVING MIN(a.first_seen) <= DATE '{{as_of}}' - INTERVAL '7 days'
ORDER BY first_seen, a.customer_id, a.signal
