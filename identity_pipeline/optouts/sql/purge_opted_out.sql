-- Remove every ID held for the identities in temp table purge_targets(uid2_hash).
-- Idempotent; runs in the same transaction that records the opt-outs.
UPDATE uid2_mapping
SET status = 'optout', current_uid = NULL, previous_uid = NULL, refresh_from = NULL,
    reason = NULL
WHERE uid2_hash IN (SELECT uid2_hash FROM purge_targets)
  AND (status <> 'optout' OR current_uid IS NOT NULL OR previous_uid IS NOT NULL);
