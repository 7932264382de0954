-- Conversion days [$window_start, $window_end) from landed rows, one row per
-- conversion_id (the most recently loaded copy wins). Portable SELECT; compute.py replaces the
-- window's rows with it in one transaction.
SELECT day, conversion_id, ts, customer_id, uid2_hash, value, currency, source_file, id_type, id
FROM (
    SELECT l.*, ROW_NUMBER() OVER (
        PARTITION BY conversion_id ORDER BY loaded_at DESC, source_file DESC, row_number DESC
    ) AS copy_rank
    FROM landed_conversions AS l
    WHERE day >= CAST($window_start AS DATE) AND day < CAST($window_end AS DATE)
) AS ranked
WHERE copy_rank = 1
ORDER BY day, ts;
