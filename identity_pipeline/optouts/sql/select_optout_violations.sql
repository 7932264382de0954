-- Opted-out identities that still hold an ID, per table. Must return zeros.
-- Who is opted out comes from the opted_out view (sql/create_views.sql).
SELECT 'uid2_mapping' AS table_name, count(*) AS identities
FROM uid2_mapping
WHERE uid2_hash IN (SELECT uid2_hash FROM opted_out)
  AND (current_uid IS NOT NULL OR previous_uid IS NOT NULL)
UNION ALL
SELECT 'id5_mapping', count(*)
FROM id5_mapping
WHERE (dii_id IN (SELECT dii_id FROM opted_out)
       OR try(to_base64(unhex(id5_hash))) IN (SELECT uid2_hash FROM opted_out))
  AND (id5_uid IS NOT NULL OR previous_id5_uid IS NOT NULL)
UNION ALL
SELECT 'id5_uid_history', count(DISTINCT dii_id)
FROM id5_uid_history
WHERE dii_id IN (SELECT dii_id FROM opted_out)
