-- How much cost has not been invoiced yet, per service month?
-- For: monthly finance reconciliation. Per service month and currency: the cost (usage and billed
-- line items), what was invoiced, the cost not covered by invoices (unbilled_cost, counted per
-- customer where cost exceeds what was invoiced), the cost of customers with no invoice at all,
-- and how many customers are in each case.
SELECT
    service_month,
    currency,
    COUNT(*) AS customers,
    SUM(cost) AS cost,
    SUM(COALESCE(invoiced, 0)) AS invoiced,
    SUM(CASE WHEN cost > COALESCE(invoiced, 0) THEN cost - COALESCE(invoiced, 0) ELSE 0 END) AS unbilled_cost,
    SUM(CASE WHEN cost > COALESCE(invoiced, 0) THEN 1 ELSE 0 END) AS customers_underbilled,
    SUM(CASE WHEN COALESCE(invoiced, 0) = 0 AND cost > 0 THEN cost ELSE 0 END) AS cost_never_invoiced,
    SUM(CASE WHEN COALESCE(invoiced, 0) = 0 AND cost > 0 THEN 1 ELSE 0 END) AS customers_never_invoiced
FROM reconciliation
GROUP BY service_month, currency
ORDER BY service_month, currency
