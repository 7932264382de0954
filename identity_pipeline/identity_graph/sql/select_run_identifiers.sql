-- Distinct identifiers of this run's events, with first/last seen and the first blocked
-- pattern they match (ig_blocked_patterns: id_type or '*', pattern).
SELECT g.*,
    (SELECT min(p.pattern) FROM ig_blocked_patterns AS p
     WHERE (p.id_type = '*' OR p.id_type = g.id_type) AND regexp_matches(g.plain, p.pattern))
        AS blocked_pattern
FROM (
    SELECT id_key, min(id_type) AS id_type, min(id_value) AS id_value, min(plain) AS plain,
        min(created_at) AS first_seen_at,
        min(struct_pack(t := created_at, e := event_id)).e AS first_event_id,
        max(created_at) AS last_seen_at, count(*) AS events,
        count(DISTINCT id_type || ':' || id_value) AS spellings
    FROM ig_event_identifiers
    GROUP BY id_key
) AS g
