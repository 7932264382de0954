-- Store one answered batch inside the caller's transaction. Input: registered relation
-- uid2_answer, one row per identifier sent: dii_id, uid2_hash, dii_type, source_seen_at and
-- the operator's answer u (current), p (previous), r (refresh_from, Unix s), e (error),
-- b (bucket). Params: $now, $requests. An opt-out clears both UID2s (optouts.store lists it).
INSERT INTO uid2_mapping AS m
SELECT
    a.dii_id, a.uid2_hash, a.dii_type,
    a.u,
    CASE WHEN a.u IS NOT NULL THEN a.p END,
    CASE WHEN a.u IS NOT NULL THEN CAST(to_timestamp(a.r) AS TIMESTAMP) END,
    CASE WHEN a.u IS NOT NULL THEN 'mapped' WHEN a.e = 'optout' THEN 'optout' ELSE 'invalid' END,
    CASE WHEN a.u IS NULL AND a.e <> 'optout' THEN left(a.e, 100) END,
    a.b, CAST($now AS TIMESTAMP), CAST($requests AS INTEGER), a.source_seen_at
FROM uid2_answer AS a
ON CONFLICT (dii_id) DO UPDATE SET
    current_uid = excluded.current_uid,
    -- The operator names the previous UID2 only within 90 days of a rotation; when it does
    -- not, but the UID2 changed under us, the one we held is the previous one.
    previous_uid = CASE
        WHEN excluded.status <> 'mapped' THEN NULL
        ELSE coalesce(
            excluded.previous_uid,
            CASE WHEN m.current_uid <> excluded.current_uid THEN m.current_uid END,
            m.previous_uid)
    END,
    refresh_from = excluded.refresh_from,
    status = excluded.status,
    reason = excluded.reason,
    bucket_id = coalesce(excluded.bucket_id, m.bucket_id),
    mapped_at = excluded.mapped_at,
    attempts = m.attempts + excluded.attempts,
    source_seen_at = excluded.source_seen_at;
