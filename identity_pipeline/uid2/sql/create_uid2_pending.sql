-- Due rows a run still has to send, cut into batches: temp table uid2_pending.
-- Params: $size (identifiers per request), $one_type ('v2' sends one identity type per request).
-- Only rows still due (the uid2_still_due view: a killed run's finished batches are done), and
-- opted-out identities (the opted_out view) are never sent. pos = place in the request array for its type.
CREATE OR REPLACE TEMP TABLE uid2_pending AS
WITH todo AS (
    SELECT due.dii_id, due.uid2_hash, due.dii_type, d.last_seen_at
    FROM uid2_still_due AS due
    JOIN dii AS d ON d.dii_id = due.dii_id
    WHERE NOT EXISTS (SELECT 1 FROM opted_out AS o WHERE o.uid2_hash = due.uid2_hash)
),
numbered AS (
    SELECT *,
        CASE WHEN $one_type
             THEN (row_number() OVER (PARTITION BY dii_type ORDER BY dii_id) - 1)
                  // CAST($size AS BIGINT)
             ELSE (row_number() OVER (ORDER BY dii_id) - 1) // CAST($size AS BIGINT)
        END AS chunk
    FROM todo
)
SELECT dii_id, uid2_hash, dii_type, last_seen_at,
    dense_rank() OVER (ORDER BY CASE WHEN $one_type THEN dii_type ELSE '' END, chunk) AS batch_no,
    row_number() OVER (PARTITION BY dii_type, chunk ORDER BY dii_id) - 1 AS pos
FROM numbered
ORDER BY batch_no, dii_type, pos;  -- stored in batch order, so reading one batch is cheap
