-- The journal rows of the persons in ig_refresh_persons (every person when $full): each event
-- of identity_events whose identifiers the graph gives to the person, with its visit number.
-- An event belongs to the person of its identifiers in identity_graph: hubs have no row there,
-- and the other identifiers of one event are linked, so they share one person; an event whose
-- identifiers are all hubs belongs to nobody. A visit (session) is a run of a person's events
-- with no gap over 30 minutes: an event more than 30 minutes after the person's previous event
-- starts the next visit. Visits count from 1 in (created_at, event_id) order.
WITH graph AS (
    SELECT g.id_type, g.id_value, g.person_id
    FROM identity_graph AS g
    WHERE $full OR g.person_id IN (SELECT person_id FROM ig_refresh_persons)
),
event_identifiers AS (
    -- each event once per identifier column, as the graph spells it (trimmed IDs, hashes)
    SELECT e.event_id, t.id_type,
        CASE t.id_type
            WHEN 'anonymous_id' THEN trim(e.anonymous_id)
            WHEN 'email' THEN e.email_hash
            WHEN 'phone' THEN e.phone_hash
            WHEN 'fbclid' THEN trim(e.fbclid)
            WHEN 'gclid' THEN trim(e.gclid)
        END AS id_value
    FROM identity_events AS e
    CROSS JOIN (VALUES ('anonymous_id'), ('email'), ('phone'), ('fbclid'), ('gclid'))
        AS t (id_type)
),
event_persons AS (
    SELECT i.event_id, g.person_id
    FROM event_identifiers AS i
    JOIN graph AS g ON g.id_type = i.id_type AND g.id_value = i.id_value
),
owned AS (
    SELECT event_id, min(person_id) AS person_id FROM event_persons GROUP BY event_id
),
ordered AS (
    SELECT o.person_id, e.event_id, e.created_at, e.day, e.platform, e.action, e.properties,
        e.value, e.currency,
        lag(e.created_at) OVER (PARTITION BY o.person_id ORDER BY e.created_at, e.event_id)
            AS previous_at
    FROM owned AS o
    JOIN identity_events AS e ON e.event_id = o.event_id
)
SELECT person_id, event_id, created_at, day,
    sum(CASE WHEN previous_at IS NULL OR created_at > previous_at + INTERVAL '30' MINUTE
             THEN 1 ELSE 0 END)
        OVER (PARTITION BY person_id ORDER BY created_at, event_id
              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS visit,
    platform, action, properties, value, currency
FROM ordered
