-- Where does the partner sell below cost?
-- For: finance and account managers. Customer service months whose invoiced amount is below the
-- cost (usage and billed line items), worst loss first, with the loss as a share of cost.
SELECT
    r.customer_id,
    c.customer_name,
    r.service_month,
    r.currency,
    ROUND(r.cost, 2) AS cost,
    ROUND(r.invoiced, 2) AS invoiced,
    ROUND(r.margin, 2) AS margin,
    ROUND(r.margin / NULLIF(r.cost, 0), 4) AS margin_share,
    r.status
FROM reconciliation AS r
LEFT JOIN customers AS c ON c.customer_id = r.customer_id
WHERE r.margin < 0
ORDER BY r.margin, r.customer_id, r.service_month, r.currency
