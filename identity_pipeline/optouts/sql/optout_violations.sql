-- Opted-out identities that still hold an ID, per table. Must return zeros.
WITH opted_out AS (
    SELECT uid2_hash FROM optouts
    UNION
    SELECT uid2_hash FROM uid2_mapping WHERE status = 'optout'
)
SELECT 'uid2_mapping' AS table_name, count(*) AS identities
FROM uid2_mapping
WHERE uid2_hash IN (SELECT uid2_hash FROM opted_out)
  AND (current_uid IS NOT NULL OR previous_uid IS NOT NULL)
