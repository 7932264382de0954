-- What a batch of forget requests reaches, from fg_requested(request_no, id_type, id_value):
-- identifiers as identity_graph stores them (email/phone: the UID2 hash). Every temp table
-- carries request_no, so one pass serves a whole request file and counts stay per request.

-- The persons holding a requested identifier, and every retired UUID that resolves to one of
-- them (person_merges old -> new, where old is no longer live). A split's other part is live
-- and is not followed.
CREATE OR REPLACE TEMP TABLE fg_person AS
WITH RECURSIVE found(request_no, person_id) AS (
    SELECT DISTINCT r.request_no, g.person_id
    FROM fg_requested AS r
    JOIN identity_graph AS g ON g.id_type = r.id_type AND g.id_value = r.id_value
    UNION
    SELECT f.request_no, m.old_person_id
    FROM found AS f
    JOIN person_merges AS m ON m.new_person_id = f.person_id
    WHERE m.old_person_id NOT IN (SELECT person_id FROM identity_persons)
)
SELECT request_no, person_id,
    person_id IN (SELECT person_id FROM identity_persons) AS live
FROM found;

-- Every identifier of those persons, plus the requested ones (a hub or an identifier never
-- seen has no person, and is still forgotten). id_key when the graph knows the identifier.
CREATE OR REPLACE TEMP TABLE fg_identifier AS
SELECT s.request_no, s.id_type, s.id_value, i.id_key
FROM (
    SELECT p.request_no, g.id_type, g.id_value
    FROM fg_person AS p JOIN identity_graph AS g ON g.person_id = p.person_id
    UNION
    SELECT request_no, id_type, id_value FROM fg_requested
) AS s
LEFT JOIN identity_identifiers AS i ON i.id_type = s.id_type AND i.id_value = s.id_value;

-- Every event's identifiers in graph form (type, value as identity_graph stores it): from
-- identity_events, from raw events' anonymous and click IDs directly, and, for raw events not
-- yet in identity_events, from fg_orphan_hashes (their emails and phones hashed by
-- normalize_table).
CREATE OR REPLACE TEMP VIEW fg_event_ids AS
SELECT event_id, created_at, id_type, id_value FROM (
    UNPIVOT (
        SELECT event_id, created_at, email_hash AS email, phone_hash AS phone,
            trim(anonymous_id) AS anonymous_id, trim(fbclid) AS fbclid, trim(gclid) AS gclid
        FROM identity_events
    ) ON email, phone, anonymous_id, fbclid, gclid INTO NAME id_type VALUE id_value
)
UNION ALL
SELECT event_id, created_at, id_type, id_value FROM (
    UNPIVOT (
        SELECT event_id, created_at,
            trim(anonymous_id) AS anonymous_id, trim(fbclid) AS fbclid, trim(gclid) AS gclid
        FROM raw_events
    ) ON anonymous_id, fbclid, gclid INTO NAME id_type VALUE id_value
)
UNION ALL
SELECT o.event_id, r.created_at, o.dii_type, o.uid2_hash
FROM fg_orphan_hashes AS o JOIN raw_events AS r ON r.event_id = o.event_id;

-- Every event carrying one of those identifiers or in those persons' journals.
CREATE OR REPLACE TEMP TABLE fg_event AS
SELECT DISTINCT request_no, event_id FROM (
    SELECT i.request_no, e.event_id FROM fg_event_ids AS e
    JOIN fg_identifier AS i ON i.id_type = e.id_type AND i.id_value = e.id_value
    UNION ALL
    SELECT p.request_no, j.event_id FROM person_journal AS j
    JOIN fg_person AS p ON p.person_id = j.person_id
);

-- The rows to delete, by table and rowid. forget.py fills it: rows found through events,
-- identifiers and persons (ROWS_TO_FORGET), and every table with a person_id column.
CREATE OR REPLACE TEMP TABLE fg_row (table_name VARCHAR, request_no BIGINT, row_id BIGINT);
