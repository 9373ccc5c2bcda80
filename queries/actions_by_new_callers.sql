-- What did the callers flagged as new actually do?
-- For: risk analysts investigating a new_caller alert: a user or app never seen before on the
-- customer's subscriptions is how a compromised tenant usually shows. Every activity row of that
-- caller on the customer's subscriptions from the day of the alert on, oldest first, with the
-- role assigned where the operation was a role assignment. Assumes the anomaly's entity is the
-- caller (user principal name or app id), as the new_caller signal records it.
SELECT
    n.customer_id,
    n.entity AS caller,
    n.date AS flagged_on,
    n.suppressed,
    t.event_time,
    t.subscription_id,
    t.operation,
    t.status,
    t.client_ip,
    t.location,
    t.role,
    t.resource_id
FROM anomalies AS n
INNER JOIN activity AS t
    ON t.customer_id = n.customer_id AND t.caller = n.entity
WHERE n.signal = 'new_caller'
  AND CAST(t.event_time AS DATE) >= n.date
ORDER BY n.customer_id, n.entity, t.event_time, t.source_file, t.source_line
