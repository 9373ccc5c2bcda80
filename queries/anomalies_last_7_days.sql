-- Which anomalies were raised in the seven days up to a given date?
-- For: risk analysts catching up after a weekend or a holiday.
-- Parameters: as_of (YYYY-MM-DD), the last day of the window; defaults to the run's as-of date.
-- Alerts an analyst has already suppressed (dispositions) are left out; strongest first.
SELECT
    a.date,
    a.customer_id,
    r.customer_name,
    r.tier,
    a.family,
    a.signal,
    a.entity,
    a.actual,
    a.expected,
    a.score,
    a.reason
FROM anomalies AS a
LEFT JOIN risk_scores AS r ON r.customer_id = a.customer_id
WHERE a.date > DATE '{{as_of}}' - INTERVAL '7 days'
  AND a.date <= DATE '{{as_of}}'
  AND NOT a.suppressed
ORDER BY a.score DESC, a.date DESC, a.customer_id, a.signal, a.entity
