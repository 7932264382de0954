-- Rebuild uid2_due_for_refresh. Params: $now (pipeline time, naive UTC), $version ('v3'|'v2'),
-- $only_new (true: identities never sent before only, for runs a new contact file triggers).
-- An identity is due for the first reason that holds: the shared rule (mapping_due_reason, from
-- mapping/sql/create_due_macros.sql), then UID2's refresh (v3: refresh_from passed; v2: no salt
-- bucket, or its bucket rotated since). Opted-out identities (the opted_out view) never appear.
CREATE OR REPLACE TABLE uid2_due_for_refresh AS
SELECT dii_id, uid2_hash, dii_type, reason, CAST($now AS TIMESTAMP) AS due_since
FROM (
    SELECT
        d.dii_id,
        d.uid2_hash,
        d.dii_type,
        coalesce(
            mapping_due_reason(m.dii_id, m.status = 'invalid', d.last_seen_at, m.source_seen_at,
                               m.mapped_at),
            CASE
                WHEN m.status <> 'mapped' THEN NULL
                WHEN $version = 'v3'
                     AND (m.refresh_from IS NULL OR m.refresh_from <= CAST($now AS TIMESTAMP))
                    THEN 'refresh_from_passed'
                WHEN $version = 'v2' AND m.bucket_id IS NULL THEN 'no_bucket'
                WHEN $version = 'v2' AND r.last_updated > m.mapped_at THEN 'bucket_rotated'
            END
        ) AS reason
    FROM dii AS d
    LEFT JOIN uid2_mapping AS m ON m.dii_id = d.dii_id
    LEFT JOIN uid2_bucket_rotations AS r ON r.bucket_id = m.bucket_id
    WHERE NOT EXISTS (SELECT 1 FROM opted_out AS o WHERE o.uid2_hash = d.uid2_hash)
      AND (NOT $only_new OR m.dii_id IS NULL)
) AS candidates
WHERE reason IS NOT NULL;
