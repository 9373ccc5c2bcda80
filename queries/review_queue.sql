-- Risk review queue: which customers should the risk team look at first, and why?
-- For: fraud and risk analysts working through the morning review.
-- Customers at tier critical, high or medium, most severe tier first, then by exposure (what the
-- partner stands to lose: net outstanding + usage not yet invoiced + forecast to month end), with
-- each signal family's contribution, the top reasons in words, the ledger balance and the
-- collections action in the same currency.
SELECT
    r.customer_id,
    r.customer_name,
    r.tier,
    r.risk_score,
    r.exposure,
    r.currency,
    r.usage AS usage_points,
    r.activity AS activity_points,
    r.payment AS payment_points,
    r.fraud AS fraud_points,
    a.net_outstanding,
    a.oldest_days_past_due,
    a.action AS collections_action,
    r.top_reasons
FROM risk_scores AS r
LEFT JOIN aging_customers AS a
    ON a.customer_id = r.customer_id AND a.currency = r.currency
WHERE r.tier IN ('critical', 'high', 'medium')
ORDER BY
    CASE r.tier WHEN 'critical' THEN 0 WHEN 'high' THEN 1 ELSE 2 END,
    r.exposure DESC,
    r.customer_id
