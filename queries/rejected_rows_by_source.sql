-- Which input rows were rejected, and why?
-- For: whoever prepares the input exports (finance operations, the data team), to fix a source
-- at its origin. Rejected rows grouped by source, file, column and reason, most frequent first,
-- with the first line concerned and one raw example.
SELECT
    source,
    file,
    "column",
    reason,
    COUNT(*) AS rows_rejected,
    MIN(line) AS first_line,
    MAX(line) AS last_line,
    FIRST(raw) AS example_raw
FROM rejected_rows
GROUP BY source, file, "column", reason
ORDER BY rows_rejected DESC, source, file, "column", reason
