-- Store one answered batch inside the caller's transaction. Input: registered relation
-- id5_answer, one row per user sent: dii_id, id5_hash, source_seen_at and ID5's answer
-- uid, country_alpha2, error_code. Params: $now, $requests.
-- A new ID5 ID pushes the one we held into previous_id5_uid; a per-user error clears the
-- current ID but keeps the last one as previous (and in history) for attribution.
INSERT INTO id5_mapping AS m
SELECT
    a.dii_id, a.id5_hash, a.uid, NULL, a.country_alpha2,
    CASE WHEN a.uid IS NOT NULL THEN 'mapped' ELSE 'error' END,
    CASE WHEN a.uid IS NULL THEN left(coalesce(a.error_code, 'unknown'), 100) END,
    CAST($now AS TIMESTAMP), CAST($requests AS INTEGER), a.source_seen_at
FROM id5_answer AS a
ON CONFLICT (dii_id) DO UPDATE SET
    id5_hash = excluded.id5_hash,
    previous_id5_uid = CASE
        WHEN m.id5_uid IS NOT NULL AND m.id5_uid IS DISTINCT FROM excluded.id5_uid
            THEN m.id5_uid
        ELSE m.previous_id5_uid
    END,
    id5_uid = excluded.id5_uid,
    country_alpha2 = excluded.country_alpha2,
    status = excluded.status,
    error_code = excluded.error_code,
    mapped_at = excluded.mapped_at,
    attempts = coalesce(m.attempts, 0) + excluded.attempts,
    source_seen_at = excluded.source_seen_at;

INSERT INTO id5_uid_history AS h
SELECT dii_id, uid, CAST($now AS TIMESTAMP), CAST($now AS TIMESTAMP)
FROM id5_answer
WHERE uid IS NOT NULL
ON CONFLICT (dii_id, id5_uid) DO UPDATE SET
    first_seen_at = least(h.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(h.last_seen_at, excluded.last_seen_at);
