-- Rebuild uid2_due_for_refresh. Params: $now (pipeline time, naive UTC), $version ('v3'|'v2'),
-- $only_new (true: identities never sent before only, for runs a new contact file triggers).
-- Opted-out identities (the opted_out view) never appear.
CREATE OR REPLACE TABLE uid2_due_for_refresh AS
SELECT
    d.dii_id,
    d.uid2_hash,
    d.dii_type,
    CASE
        WHEN m.dii_id IS NULL THEN 'never_mapped'
        WHEN m.status = 'invalid' THEN 'seen_again'
        WHEN $version = 'v2' AND m.bucket_id IS NULL THEN 'no_bucket'
        WHEN $version = 'v2' THEN 'bucket_rotated'
        ELSE 'refresh_from_passed'
    END AS reason,
    CAST($now AS TIMESTAMP) AS due_since
FROM dii AS d
LEFT JOIN uid2_mapping AS m ON m.dii_id = d.dii_id
LEFT JOIN uid2_bucket_rotations AS r ON r.bucket_id = m.bucket_id
WHERE NOT EXISTS (SELECT 1 FROM opted_out AS o WHERE o.uid2_hash = d.uid2_hash)
  AND (NOT $only_new OR m.dii_id IS NULL)
  AND (
        m.dii_id IS NULL
     OR (m.status = 'invalid' AND d.last_seen_at > coalesce(m.source_seen_at, m.mapped_at))
     OR (m.status = 'mapped' AND $version = 'v3'
         AND (m.refresh_from IS NULL OR m.refresh_from <= CAST($now AS TIMESTAMP)))
     OR (m.status = 'mapped' AND $version = 'v2'
         AND (m.bucket_id IS NULL OR r.last_updated > m.mapped_at))
  );
