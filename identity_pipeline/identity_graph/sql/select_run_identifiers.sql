-- Distinct identifiers of this run's events, with when they were first seen and whether they match a
-- blocked pattern: $re_<type> is the alternation of every pattern for that type (and '*'),
-- bound as a constant so each regular expression compiles once. `spellings` > 1 flags two
-- identifiers hashed to the same id_key.
SELECT *,
    coalesce(CASE id_type
        WHEN 'customer_id' THEN regexp_matches(plain, $re_customer_id)
        WHEN 'email' THEN regexp_matches(plain, $re_email)
        WHEN 'phone' THEN regexp_matches(plain, $re_phone)
        WHEN 'anonymous_id' THEN regexp_matches(plain, $re_anonymous_id)
        WHEN 'gclid' THEN regexp_matches(plain, $re_gclid)
        WHEN 'fbclid' THEN regexp_matches(plain, $re_fbclid)
    END, false) AS blocked,
    CAST(NULL AS VARCHAR) AS blocked_pattern
FROM (
    SELECT id_key, min(id_type) AS id_type, min(id_value) AS id_value, min(plain) AS plain,
        min(created_at) AS first_seen_at,
        min(struct_pack(t := created_at, e := event_id)).e AS first_event_id,
        CASE WHEN min(id_type) <> max(id_type) OR min(id_value) <> max(id_value) THEN 2 ELSE 1 END
            AS spellings
    FROM ig_event_identifiers
    GROUP BY id_key
) AS g
