-- Which customers newly reached high or critical risk since the previous run, and what do they owe?
-- For: the risk analyst who pages the on-call person, and credit control deciding on a hold.
-- Customers whose tier rose to high or critical (or who arrived there as new customers), with
-- their score, exposure, open balance and collections action in the exposure's currency, and the
-- reasons in words. Empty when the run had no previous run.
SELECT
    c.customer_id,
    c.customer_name,
    c.before AS tier_before,
    c.after AS tier_now,
    r.risk_score,
    r.exposure,
    r.currency,
    a.net_outstanding,
    a.oldest_days_past_due,
    a.action AS collections_action,
    r.top_reasons
FROM changes AS c
JOIN risk_scores AS r ON r.customer_id = c.customer_id
LEFT JOIN aging_customers AS a
    ON a.customer_id = r.customer_id AND a.currency = r.currency
WHERE c.kind IN ('risk_newly_critical', 'risk_newly_high')
ORDER BY c.priority, r.exposure DESC, c.customer_id
