-- Merge normalized values (temp table ip_normalized) of the pending files into the identity
-- tables. Runs inside one transaction; $salt fingerprints rejected values.

-- Identities and customers touched by the old or the new version of the pending files.
CREATE OR REPLACE TEMP TABLE ip_pending_files AS
SELECT DISTINCT source_file FROM ip_contact_values
UNION SELECT source_file FROM ip_empty_rows
UNION SELECT file_path FROM contact_files
      WHERE status = 'loaded' AND normalized_checksum IS DISTINCT FROM loaded_checksum;

CREATE OR REPLACE TEMP TABLE ip_touched AS
SELECT uid2_hash, customer_id FROM contact_identities
WHERE source_file IN (SELECT source_file FROM ip_pending_files)
UNION
SELECT uid2_hash, customer_id FROM ip_normalized WHERE error IS NULL;

DELETE FROM contact_identities WHERE source_file IN (SELECT source_file FROM ip_pending_files);
INSERT INTO contact_identities
SELECT source_file, row_number, customer_id, dii_type, uid2_hash, id5_hash, seen_at
FROM ip_normalized WHERE error IS NULL;

DELETE FROM dii_rejects
WHERE stage = 'normalize' AND source_file IN (SELECT source_file FROM ip_pending_files);
INSERT INTO dii_rejects
SELECT source_file, row_number, field, reason, sha256($salt || coalesce(value, '')), 'normalize', now()
FROM (
    SELECT source_file, row_number, dii_type AS field, error AS reason, value
    FROM ip_normalized WHERE error IS NOT NULL
    UNION ALL
    SELECT source_file, row_number, 'row', 'no_identifier', NULL FROM ip_empty_rows
);

-- New identities get the next ids, in hash order so a rebuild assigns the same ids.
INSERT INTO dii
SELECT (SELECT coalesce(max(dii_id), 0) FROM dii) + row_number() OVER (ORDER BY n.uid2_hash),
       n.dii_type, n.uid2_hash, n.id5_hash, n.first_seen, n.last_seen, 0
FROM (
    SELECT uid2_hash, any_value(dii_type) AS dii_type, any_value(id5_hash) AS id5_hash,
           min(seen_at) AS first_seen, max(seen_at) AS last_seen
    FROM ip_normalized WHERE error IS NULL GROUP BY uid2_hash
) AS n
WHERE NOT EXISTS (SELECT 1 FROM dii AS d WHERE d.uid2_hash = n.uid2_hash);

UPDATE dii SET
    first_seen_at = least(dii.first_seen_at, agg.first_seen),
    last_seen_at = greatest(dii.last_seen_at, agg.last_seen),
    source_count = agg.source_count
FROM (
    SELECT uid2_hash, min(seen_at) AS first_seen, max(seen_at) AS last_seen,
           count(*) AS source_count
    FROM contact_identities
    WHERE uid2_hash IN (SELECT uid2_hash FROM ip_touched)
    GROUP BY uid2_hash
) AS agg
WHERE dii.uid2_hash = agg.uid2_hash;

-- Identities whose last source row went away keep their row (mappings refer to them).
UPDATE dii SET source_count = 0
WHERE uid2_hash IN (SELECT uid2_hash FROM ip_touched)
  AND uid2_hash NOT IN (SELECT uid2_hash FROM contact_identities);

DELETE FROM customer_dii
WHERE customer_id IN (SELECT customer_id FROM ip_touched);
INSERT INTO customer_dii
SELECT c.customer_id, d.dii_id, min(c.seen_at), max(c.seen_at)
FROM contact_identities AS c JOIN dii AS d USING (uid2_hash)
WHERE c.customer_id IN (SELECT customer_id FROM ip_touched)
GROUP BY c.customer_id, d.dii_id;

UPDATE contact_files SET normalized_checksum = loaded_checksum
WHERE file_path IN (SELECT source_file FROM ip_pending_files);
