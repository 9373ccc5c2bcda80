-- What changed since the previous run, most urgent first?
-- For: the risk analyst and the collections team reading the morning run: new critical and high
-- customers, escalated collections actions, budgets newly over, new alerts, then the rest
-- (tiers down, actions cleared, alerts ended). Empty when the run had no previous run.
-- Each row says what the customer's state was before, what it is now, and why, with the
-- customer's current tier and exposure.
SELECT
    c.priority,
    c.kind,
    c.customer_id,
    c.customer_name,
    c.currency,
    c.signal,
    c.before,
    c.after,
    r.tier,
    r.exposure,
    r.currency AS exposure_currency,
    c.first_seen,
    c.reason
FROM changes AS c
LEFT JOIN risk_scores AS r ON r.customer_id = c.customer_id
ORDER BY c.priority, c.customer_id, c.currency, c.signal, c.before, c.after
