-- One row per (event, identifier) of ig_events: id_key, type, value as stored, and `plain`,
-- the value blocked patterns are matched against (normalized email, E.164 digits, trimmed
-- id). `plain` lives only in this temp table. ig_dii_normalized comes from normalize_table,
-- the same code path as the contacts `dii`; invalid emails and phones are not identifiers.
-- ig_hashed_identifiers holds identifiers already in graph form (CRM customer_id links through
-- customer_dii): their emails and phones are hashes already, so blocked patterns, which match
-- plain values, cannot see them (`plain` NULL); the per-type link limits still apply.
-- id_key: a hash of (type, value), so numbering never depends on arrival order.
SELECT event_id, created_at, id_type, id_value, plain,
    CAST(md5_number_lower(id_type || ':' || id_value) >> 1 AS BIGINT) AS id_key
FROM (
    SELECT event_id, created_at, 'anonymous_id' AS id_type, trim(anonymous_id) AS id_value,
        trim(anonymous_id) AS plain
    FROM ig_events WHERE nullif(trim(anonymous_id), '') IS NOT NULL
    UNION ALL
    SELECT event_id, created_at, 'fbclid', trim(fbclid), trim(fbclid)
    FROM ig_events WHERE nullif(trim(fbclid), '') IS NOT NULL
    UNION ALL
    SELECT event_id, created_at, 'gclid', trim(gclid), trim(gclid)
    FROM ig_events WHERE nullif(trim(gclid), '') IS NOT NULL
    UNION ALL
    -- gaclid is Google's other name for the click ID
    SELECT event_id, created_at, 'gclid', trim(gaclid), trim(gaclid)
    FROM ig_events
    WHERE nullif(trim(gaclid), '') IS NOT NULL AND trim(gaclid) IS DISTINCT FROM trim(gclid)
    UNION ALL
    SELECT event_id, created_at, dii_type, uid2_hash,
        CASE WHEN dii_type = 'phone' THEN ltrim(normalized, '+') ELSE normalized END
    FROM ig_dii_normalized WHERE error IS NULL
    UNION ALL
    SELECT event_id, created_at, id_type, trim(id_value),
        CASE WHEN id_type IN ('email', 'phone') THEN NULL ELSE trim(id_value) END
    FROM ig_hashed_identifiers WHERE nullif(trim(id_value), '') IS NOT NULL
)
