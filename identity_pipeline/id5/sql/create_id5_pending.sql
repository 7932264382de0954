-- Due rows a run still has to send, cut into batches: temp table id5_pending.
-- Params: $size (users per request, at most 1,000). Only rows still due (the id5_still_due
-- view: a killed run's finished batches are done); opted-out identities (the opted_out view)
-- are never sent, even when they opted out after the due list was built.
-- pos = place in the request's users array.
CREATE OR REPLACE TEMP TABLE id5_pending AS
WITH todo AS (
    SELECT due.dii_id, due.id5_hash, due.known_uid, due.country_alpha2, d.last_seen_at
    FROM id5_still_due AS due
    JOIN dii AS d ON d.dii_id = due.dii_id
    WHERE NOT EXISTS (SELECT 1 FROM opted_out AS o WHERE o.uid2_hash = d.uid2_hash)
),
numbered AS (
    SELECT *, row_number() OVER (ORDER BY dii_id) - 1 AS n FROM todo
)
SELECT dii_id, id5_hash, known_uid, country_alpha2, last_seen_at,
    n // CAST($size AS BIGINT) + 1 AS batch_no,
    n % CAST($size AS BIGINT) AS pos
FROM numbered
ORDER BY batch_no, pos;  -- stored in batch order, so reading one batch is cheap
