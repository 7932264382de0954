-- Remove every ID held for the identities in relation purge_targets(uid2_hash).
-- Idempotent; runs in the same transaction that records the opt-outs.
UPDATE uid2_mapping
SET status = 'optout', current_uid = NULL, previous_uid = NULL, refresh_from = NULL,
    reason = NULL
WHERE uid2_hash IN (SELECT uid2_hash FROM purge_targets)
  AND (status <> 'optout' OR current_uid IS NOT NULL OR previous_uid IS NOT NULL);

-- ID5 keys emails by hex SHA-256; the same digest in base64 is the opt-out key. The dii
-- link covers a row whose stored hash is malformed (a per-user error): try() makes that
-- hash match nothing instead of failing the purge.
UPDATE id5_mapping
SET status = 'optout', id5_uid = NULL, previous_id5_uid = NULL, error_code = NULL
WHERE (try(to_base64(unhex(id5_hash))) IN (SELECT uid2_hash FROM purge_targets)
       OR dii_id IN (SELECT d.dii_id FROM dii AS d
                     WHERE d.uid2_hash IN (SELECT uid2_hash FROM purge_targets)))
  AND (status <> 'optout' OR id5_uid IS NOT NULL OR previous_id5_uid IS NOT NULL);

DELETE FROM id5_uid_history
WHERE dii_id IN (SELECT dii_id FROM id5_mapping WHERE status = 'optout');
