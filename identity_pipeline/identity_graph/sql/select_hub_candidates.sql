-- Identifiers of this run that are hubs: blocked values, or linking more distinct
-- identifiers of some type than ig_max_links allows (after this run's links are merged).
-- Fan-out only grows, so only identifiers of this run can have become hubs.
WITH fan AS (
    SELECT l.key_a AS id_key, l.type_b AS linked_type
    FROM identity_links AS l JOIN ig_run_identifiers AS r ON l.key_a = r.id_key
    UNION ALL
    SELECT l.key_b, l.type_a
    FROM identity_links AS l JOIN ig_run_identifiers AS r ON l.key_b = r.id_key
),
per_type AS (
    SELECT f.id_key, f.linked_type, count(*) AS fan_out, min(m.max_links) AS max_links
    FROM fan AS f JOIN ig_max_links AS m ON m.id_type = f.linked_type
    GROUP BY f.id_key, f.linked_type
),
worst AS (
    SELECT id_key, linked_type, fan_out, max_links,
        row_number() OVER (PARTITION BY id_key
                           ORDER BY fan_out * 1.0 / max_links DESC, linked_type) AS rn
    FROM per_type
)
SELECT r.id_key, r.id_type, r.id_value,
    CASE WHEN r.blocked THEN 'blocked_value' ELSE 'fan_out' END AS reason,
    r.blocked_pattern, w.linked_type, coalesce(w.fan_out, 0) AS fan_out, w.max_links
FROM ig_run_identifiers AS r
LEFT JOIN worst AS w ON w.id_key = r.id_key AND w.rn = 1
WHERE r.blocked OR w.fan_out > w.max_links
