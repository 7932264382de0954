-- Impression days [$window_start, $window_end) from landed rows, one row per
-- impression_id (the most recently loaded copy wins). Portable SELECT; compute.py replaces the
-- window's rows with it in one transaction.
SELECT day, impression_id, ts, campaign_id, id_type, id, cost, source_file
FROM (
    SELECT l.*, ROW_NUMBER() OVER (
        PARTITION BY impression_id ORDER BY loaded_at DESC, source_file DESC, row_number DESC
    ) AS copy_rank
    FROM landed_impressions AS l
    WHERE day >= CAST($window_start AS DATE) AND day < CAST($window_end AS DATE)
) AS ranked
WHERE copy_rank = 1
ORDER BY day, ts;
