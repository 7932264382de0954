-- Distinct pairs of identifiers sharing an event of this run (key_a < key_b).
WITH ids AS (
    SELECT DISTINCT event_id, created_at, id_key, id_type FROM ig_event_identifiers
)
SELECT a.id_key AS key_a, b.id_key AS key_b, min(a.id_type) AS type_a, min(b.id_type) AS type_b,
    min(a.created_at) AS first_seen_at,
    min(struct_pack(t := a.created_at, e := a.event_id)).e AS first_event_id
FROM ids AS a
JOIN ids AS b ON a.event_id = b.event_id AND a.id_key < b.id_key
GROUP BY a.id_key, b.id_key
