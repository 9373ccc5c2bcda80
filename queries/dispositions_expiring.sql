-- Which analyst verdicts expire within two weeks of a given date?
-- For: risk analysts; a legitimate or planned verdict silences its alerts only until valid_until,
-- so each one due to lapse should be reviewed and renewed, or left to expire on purpose. With the
-- customer's current tier and risk score, and how many of its alerts the verdict now suppresses.
-- Parameters: as_of (YYYY-MM-DD); defaults to the run's as-of date.
WITH suppressed AS (
    SELECT customer_id, COUNT(*) AS suppressed_alerts
    FROM anomalies
    WHERE suppressed
    GROUP BY customer_id
)
SELECT
    d.customer_id,
    r.customer_name,
    d.reason_code,
    d.verdict,
    d.valid_until,
    CAST(d.valid_until AS INTEGER) - CAST(DATE '{{as_of}}' AS INTEGER) AS days_left,
    d.analyst,
    d.note,
    r.tier,
    r.risk_score,
    COALESCE(s.suppressed_alerts, 0) AS suppressed_alerts
FROM dispositions AS d
LEFT JOIN risk_scores AS r ON r.customer_id = d.customer_id
LEFT JOIN suppressed AS s ON s.customer_id = d.customer_id
WHERE d.valid_until >= DATE '{{as_of}}'
  AND d.valid_until <= DATE '{{as_of}}' + INTERVAL '14 days'
ORDER BY d.valid_until, d.customer_id, d.reason_code
