-- `persons` rows of the persons in ig_refresh_persons that are alive (every live person when
-- $full), from identity_persons (anchor, first seen), identity_graph (identifiers per type),
-- ig_person_events (their journal rows: events, visits, last seen) and the contacts tables
-- (dii_ids of their email and phone hashes; customer_ids are their customer_id identifiers).
-- first_seen_at: the earliest sighting of any of the person's identifiers (events or CRM);
-- last_seen_at: their latest event, or first_seen_at when they have none (CRM only).
WITH alive AS (
    SELECT p.person_id, p.anchor_type, p.anchor_value, p.first_seen_at
    FROM identity_persons AS p
    WHERE $full OR p.person_id IN (SELECT person_id FROM ig_refresh_persons)
),
ids AS (
    SELECT g.person_id, count(*) AS identifiers,
        sum(CASE WHEN g.id_type = 'customer_id' THEN 1 ELSE 0 END) AS customer_id_count,
        sum(CASE WHEN g.id_type = 'email' THEN 1 ELSE 0 END) AS emails,
        sum(CASE WHEN g.id_type = 'phone' THEN 1 ELSE 0 END) AS phones,
        sum(CASE WHEN g.id_type = 'anonymous_id' THEN 1 ELSE 0 END) AS anonymous_ids,
        sum(CASE WHEN g.id_type = 'gclid' THEN 1 ELSE 0 END) AS gclids,
        sum(CASE WHEN g.id_type = 'fbclid' THEN 1 ELSE 0 END) AS fbclids,
        array_agg(CASE WHEN g.id_type = 'customer_id' THEN g.id_value END
                  ORDER BY g.id_value) FILTER (WHERE g.id_type = 'customer_id') AS customer_ids
    FROM identity_graph AS g
    JOIN alive AS a ON a.person_id = g.person_id
    GROUP BY g.person_id
),
dii_ids AS (
    SELECT g.person_id, array_agg(d.dii_id ORDER BY d.dii_id) AS dii_ids
    FROM identity_graph AS g
    JOIN alive AS a ON a.person_id = g.person_id
    JOIN dii AS d ON d.dii_type = g.id_type AND d.uid2_hash = g.id_value
    WHERE g.id_type IN ('email', 'phone')
    GROUP BY g.person_id
),
activity AS (
    SELECT person_id, max(created_at) AS last_seen_at, count(*) AS events, max(visit) AS visits
    FROM ig_person_events
    GROUP BY person_id
)
SELECT a.person_id, a.anchor_type, a.anchor_value, a.first_seen_at,
    coalesce(v.last_seen_at, a.first_seen_at) AS last_seen_at,
    coalesce(v.events, 0) AS events, coalesce(v.visits, 0) AS visits,
    i.identifiers, i.customer_id_count, i.emails, i.phones, i.anonymous_ids, i.gclids,
    i.fbclids,
    coalesce(d.dii_ids, CAST([] AS BIGINT[])) AS dii_ids,
    coalesce(i.customer_ids, CAST([] AS VARCHAR[])) AS customer_ids
FROM alive AS a
JOIN ids AS i ON i.person_id = a.person_id
LEFT JOIN dii_ids AS d ON d.person_id = a.person_id
LEFT JOIN activity AS v ON v.person_id = a.person_id
