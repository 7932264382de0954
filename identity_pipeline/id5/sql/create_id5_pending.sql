-- Due rows a run still has to send, cut into batches: temp table id5_pending.
-- Params: $size (users per request, at most 1,000). Rows mapped since the due list was built
-- are done (a killed run's finished batches); opted-out identities (the opted_out view) are never sent, even when
-- they opted out after the due list was built. pos = place in the request's users array.
CREATE OR REPLACE TEMP TABLE id5_pending AS
WITH todo AS (
    SELECT due.dii_id, due.id5_hash, due.known_uid, due.country_alpha2, d.last_seen_at
    FROM id5_due_for_refresh AS due
    JOIN dii AS d ON d.dii_id = due.dii_id
    LEFT JOIN id5_mapping AS m ON m.dii_id = due.dii_id
    WHERE (m.dii_id IS NULL OR m.mapped_at < due.due_since)
      AND NOT EXISTS (SELECT 1 FROM opted_out AS o WHERE o.uid2_hash = d.uid2_hash)
),
numbered AS (
    SELECT *, row_number() OVER (ORDER BY dii_id) - 1 AS n FROM todo
)
SELECT dii_id, id5_hash, known_uid, country_alpha2, last_seen_at,
    n // CAST($size AS BIGINT) + 1 AS batch_no,
    n % CAST($size AS BIGINT) AS pos
FROM numbered
ORDER BY batch_no, pos;  -- stored in batch order, so reading one batch is cheap
