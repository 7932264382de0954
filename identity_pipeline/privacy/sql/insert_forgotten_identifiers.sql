-- Put every identifier forget reached on the deny-list, hashed as the events' ingest compares
-- them (events.denylist): email/phone as identity_graph stores them, the UID2 hash; the
-- $plain_types (anonymous and click IDs) through fg_identifier_hash, the events' own hash.
-- Only the $types the ingest honours (a CRM customer_id never arrives in an event). Once per
-- (id_type, id_hash): a later request naming the same identifier adds nothing.
-- Leaves fg_forgotten: what this batch added.
CREATE OR REPLACE TEMP TABLE fg_forgotten AS
SELECT min(request_no) AS request_no, id_type, id_hash
FROM (
    SELECT request_no, id_type,
        CASE WHEN list_contains($plain_types, id_type) THEN fg_identifier_hash(id_value)
            ELSE id_value END AS id_hash
    FROM fg_identifier
    WHERE list_contains($types, id_type)
) AS f
WHERE NOT EXISTS (
    SELECT 1 FROM forgotten_identifiers AS d WHERE d.id_type = f.id_type AND d.id_hash = f.id_hash
)
GROUP BY id_type, id_hash;

INSERT INTO forgotten_identifiers (id_type, id_hash, request_id, forgotten_at)
SELECT f.id_type, f.id_hash, r.request_id, $now
FROM fg_forgotten AS f JOIN fg_request_ids AS r ON r.request_no = f.request_no;
