-- The one id -> identity lookup: every ad id (current UID2, previous UID2, current, previous
-- and historical ID5 ID) seen in impressions of days [$impressions_from, $impressions_to),
-- with the dii identity it belongs to. Each (id_type, id) appears once, so joining impressions
-- to it on equality never multiplies rows. Opted-out identities (the opted_out view) are
-- left out entirely.
--
-- Portable SQL (CTEs, window functions, equality joins); $name marks a bound parameter.
WITH seen AS (
    SELECT DISTINCT id
    FROM impressions
    WHERE day >= CAST($impressions_from AS DATE) AND day < CAST($impressions_to AS DATE)
),
candidates AS (
    SELECT 'uid2' AS id_type, current_uid AS id, dii_id, 1 AS preference,
           'uid2_current' AS matched_via
    FROM uid2_mapping
    WHERE status = 'mapped' AND current_uid IS NOT NULL
    UNION ALL
    SELECT 'uid2', previous_uid, dii_id, 2, 'uid2_previous'
    FROM uid2_mapping
    WHERE status = 'mapped' AND previous_uid IS NOT NULL
    UNION ALL
    SELECT 'id5', id5_uid, dii_id, 1, 'id5_current'
    FROM id5_mapping
    WHERE status = 'mapped' AND id5_uid IS NOT NULL
    UNION ALL
    SELECT 'id5', previous_id5_uid, dii_id, 2, 'id5_previous'
    FROM id5_mapping
    WHERE previous_id5_uid IS NOT NULL
    UNION ALL
    SELECT 'id5', id5_uid, dii_id, 3, 'id5_history'
    FROM id5_uid_history
    WHERE id5_uid IS NOT NULL
),
eligible AS (
    SELECT c.id_type, c.id, c.dii_id, c.preference, c.matched_via
    FROM candidates AS c
    JOIN seen AS s ON s.id = c.id
    LEFT JOIN opted_out AS o ON o.dii_id = c.dii_id
    WHERE o.dii_id IS NULL
),
ranked AS (
    SELECT id_type, id, dii_id, matched_via,
           ROW_NUMBER() OVER (PARTITION BY id_type, id ORDER BY preference, dii_id) AS choice
    FROM eligible
)
SELECT id_type, id, dii_id, matched_via
FROM ranked
WHERE choice = 1
