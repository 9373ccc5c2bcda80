-- Which Partner Center fraud notifications are still open, and how much does each customer owe?
-- For: the risk team and credit control deciding together whether to suspend a subscription.
-- Fraud events not yet Resolved (Active, Investigating, or no status), with the customer's
-- ledger balance per currency (one row per event and currency; no balance = no aging row).
SELECT
    f.event_time,
    f.event_id,
    f.customer_id,
    f.customer_name,
    f.subscription_id,
    f.event_type,
    f.severity,
    f.confidence_level,
    f.event_status,
    f.hit_count,
    f.first_occurrence,
    f.last_occurrence,
    a.currency,
    a.net_outstanding,
    a.oldest_days_past_due,
    a.action AS collections_action
FROM fraud_events AS f
LEFT JOIN aging_customers AS a ON a.customer_id = f.customer_id
WHERE LOWER(COALESCE(f.event_status, '')) <> 'resolved'
ORDER BY f.event_time DESC, f.event_id, a.currency
